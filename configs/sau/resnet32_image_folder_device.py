# resnet32_image_folder.py on the device data path (configs/_base_/datasets/
# device_views.py): decoded images of image_folder.image_size on the device;
# v1, v2, v3 and the partner's v1 drawn there, sized like the CPU views.
_base_ = ['./resnet32_image_folder.py', '../_base_/datasets/device_views.py']
train_dataloader = dict(
    num_workers=_base_.device_num_workers,
    dataset=dict(dataset=dict(pipeline=_base_.index_pipeline)))
# SAU's views (sau_cifar_views.py) in SAUView order, the partner's v1
data_preprocessor = dict(
    type='DeviceViewsDataPreprocessor',
    views=[_base_.view1, _base_.view2, _base_.view3],
    partner_view=_base_.view1,
    image_size=_base_.image_folder.image_size)
custom_hooks = _base_.custom_hooks + [_base_.decoded_images_hook]
# image_folder: the device views and the decoded images' side follow
# image_folder.image_size too
image_folder_targets = dict(
    image_size=['data_preprocessor.image_size'],
    sized_pipelines=_base_.image_folder_targets.sized_pipelines + [
        'data_preprocessor.views', 'data_preprocessor.partner_view'])
