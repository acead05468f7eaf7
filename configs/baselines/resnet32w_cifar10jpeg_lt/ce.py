# Cross-entropy baseline: widened ResNet-32 (SAU/GLMC: 64/128/256 channels),
# CIFAR-10 (JPEG)-LT (data/cifar10-jpeg).
_base_ = '../resnet32_cifar10jpeg_lt/ce.py'
model = dict(backbone=dict(base_channels=64), head=dict(in_channels=256))
