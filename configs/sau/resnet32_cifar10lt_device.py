# resnet32_cifar10lt.py on the device data path (configs/_base_/datasets/
# device_views.py): decoded images on the device; v1, v2, v3 and the
# partner's v1 drawn there.
_base_ = ['./resnet32_cifar10lt.py', '../_base_/datasets/device_views.py']
train_dataloader = dict(
    num_workers=_base_.device_num_workers,
    dataset=dict(dataset=dict(pipeline=_base_.index_pipeline)))
# SAU's views (sau_cifar_views.py) in SAUView order, the partner's v1
data_preprocessor = dict(
    type='DeviceViewsDataPreprocessor',
    views=[_base_.view1, _base_.view2, _base_.view3],
    partner_view=_base_.view1)
custom_hooks = _base_.custom_hooks + [_base_.decoded_images_hook]
