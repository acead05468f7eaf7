# SAU, ResNeXt-50 32x4d, ImageNet-LT (paper: 55.2 top-1).
_base_ = './resnet50_imagenetlt.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4))
