# GLAG stage 1: ResNet-50, ImageNet-LT, Gradual Balanced Loss, 180 epochs
# cosine (the ImageNet-LT baselines' schedule).
_base_ = [
    '../_base_/datasets/imagenet_lt.py', '../_base_/models/glag_resnet50.py',
    '../_base_/schedules/imagenet_lt_180e.py', '../_base_/glag_runtime.py'
]
