# resnet32_cifar100lt.py on the device data path (configs/_base_/datasets/
# device_views.py): decoded images on the device; v1, v2, v3 and the
# partner's v1 drawn there.
_base_ = ['./resnet32_cifar100lt.py', '../_base_/datasets/device_views.py']
train_dataloader = dict(
    num_workers=_base_.device_num_workers,
    dataset=dict(dataset=dict(pipeline=_base_.index_pipeline)))
data_preprocessor = dict(type='DeviceViewsDataPreprocessor',
                         views=_base_.device_sau_views,
                         partner_view=_base_.device_crop_flip)
custom_hooks = _base_.custom_hooks + [_base_.decoded_images_hook]
