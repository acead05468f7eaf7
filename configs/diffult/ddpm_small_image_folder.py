# Small DiffuLT generator (the 1.1M-parameter preset of
# ddpm_small_cifar10jpeg_lt.py) on your own image folder (README "Your own
# data"), images resized to image_folder.image_size (the UNet's size too):
#   python tools/train.py configs/diffult/ddpm_small_image_folder.py \
#       --cfg-options image_folder.data_root=data/my_images
# then sample with the same --cfg-options:
#   python tools/diffult_sample.py configs/diffult/ddpm_small_image_folder.py \
#       WORK/iter_20000.pth --out-dir OUT --cfg-options image_folder.data_root=...
_base_ = ['../_base_/datasets/image_folder_lt.py', './_base_/ddpm_cifar.py']
model = dict(
    num_classes=_base_.image_folder.num_classes,
    unet=dict(
        sample_size=_base_.image_folder.image_size,
        block_out_channels=(32, 64, 64),
        layers_per_block=1,
        down_block_types=('DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D'),
        up_block_types=('UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'),
        norm_num_groups=8))
data_preprocessor = None  # the model carries its own ([-1, 1] scaling)

train_pipeline = [
    dict(type='LoadImage'),  # resized to image_size by the dataset's rule
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    # endless shuffled stream, same order on resume (see ddpm_cifar10lt.py)
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline, synthetic_manifest=None))
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
# image_folder: the class count reaches the generator, the image size its
# UNet (no data preprocessor here)
image_folder_targets = dict(num_classes=['model.num_classes'],
                            image_size=['model.unet.sample_size'])
param_scheduler = [
    dict(type='LinearLR', start_factor=1 / 500, by_epoch=False, begin=0,
         end=500),
]
train_cfg = dict(max_iters=20000)
default_hooks = dict(logger=dict(interval=50),
                     checkpoint=dict(interval=1000))
custom_hooks = [
    # checks the generator's class count against the folder before training
    dict(type='ClassCountsHook'),
    dict(type='IterRNGStateHook'),
    dict(type='EMAHook', momentum=1e-3),
    dict(type='DiffusionSamplesHook', interval=1000, per_class=4,
         guidance=0.8, sampler='ddim', steps=20),
]
