# SAU, widened ResNet-32, on your own image folder (README "Your own data")
# with a synthetic complement, e.g. the filtered DiffuLT samples of
# configs/diffult/ddpm_small_image_folder.py:
#   python tools/train.py configs/sau/resnet32_image_folder.py \
#       --cfg-options image_folder.data_root=data/my_images \
#       train_dataloader.dataset.dataset.synthetic_manifest=PATH/manifest_filtered.jsonl
# Views and partner: those of sau_cifar_views.py, sized by
# image_folder.image_size (crop S with padding S/8, SimAugment S, Cutout S/2;
# image_folder_targets below).
_base_ = [
    '../_base_/datasets/image_folder_lt.py',
    '../_base_/datasets/sau_cifar_views.py',
    '../_base_/models/sau_resnet32_wide.py',
    '../_base_/schedules/sau_cifar_200e.py', '../_base_/sau_runtime.py'
]
sau_dataset = dict(
    _base_.train_dataloader.dataset, pipeline=_base_.sau_train_pipeline,
    synthetic_manifest='data/synthetic/my_images_diffult/'
    'manifest_filtered.jsonl',
    # filtering may leave a class short of the fill target: train with what
    # passed (the log sums up the short classes, a file lists them)
    allow_partial_fill=True)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='MixPartnerSampler', shuffle=True),
    dataset=dict(_delete_=True, type='MixPartnerDataset', dataset=sau_dataset,
                 partner_pipeline=_base_.partner_pipeline))
model = dict(head=dict(num_classes=_base_.image_folder.num_classes))
# image_folder: the class count also reaches the head; the views and the
# partner's view are sized to image_folder.image_size
image_folder_targets = dict(
    num_classes=['data_preprocessor.num_classes', 'model.head.num_classes'],
    sized_pipelines=['train_dataloader.dataset.dataset.pipeline',
                     'train_dataloader.dataset.partner_pipeline'])
