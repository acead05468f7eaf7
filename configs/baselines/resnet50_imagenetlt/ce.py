# Cross-entropy baseline: ResNet-50, ImageNet-LT.
_base_ = [
    '../../_base_/datasets/imagenet_lt.py', '../../_base_/models/resnet50.py',
    '../../_base_/schedules/imagenet_lt_180e.py', '../../_base_/default_runtime.py'
]
