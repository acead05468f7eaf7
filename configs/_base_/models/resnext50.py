# ResNeXt-50 32x4d (MMPretrain) for ImageNet-LT.
_base_ = './resnet50.py'
model = dict(backbone=dict(type='ResNeXt', depth=50, groups=32,
                           width_per_group=4))
