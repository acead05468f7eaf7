# ce.py on the device data path (configs/_base_/datasets/device_views.py):
# decoded images on the device, crop + flip drawn there per sample.
_base_ = ['./ce.py', '../../_base_/datasets/device_views.py']
train_dataloader = dict(num_workers=_base_.device_num_workers,
                        dataset=dict(pipeline=_base_.index_pipeline))
# the CPU path's crop + flip (train_pipeline between loading and packing)
data_preprocessor = dict(type='DeviceViewsDataPreprocessor',
                         views=[_base_.train_pipeline[1:-1]])
custom_hooks = _base_.custom_hooks + [_base_.decoded_images_hook]
