# SAU, ResNet-50, ImageNet-LT (paper: 53.7 top-1; many 62.3, medium 51.7,
# few 37.2). Needs data/synthetic/imagenet_lt/manifest.jsonl.
_base_ = [
    '../_base_/datasets/sau_imagenet_lt.py',
    '../_base_/models/sau_resnet32_wide.py',
    '../_base_/schedules/imagenet_lt_180e.py', '../_base_/default_runtime.py'
]
model = dict(
    num_classes=1000,
    backbone=dict(_delete_=True, type='ResNet', depth=50, num_stages=4,
                  out_indices=(3, ), style='pytorch'),
    head=dict(num_classes=1000, in_channels=2048),
    projector=dict(in_channels=2048))
custom_hooks = [
    dict(type='ClassCountsHook'),
    dict(type='RNGStateHook'),
    dict(type='PrototypeUpdateHook', batch_size=256, num_workers=8),
    dict(type='LabelCorrectionHook'),
]
