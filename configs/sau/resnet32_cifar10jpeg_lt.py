# SAU, widened ResNet-32, CIFAR-10 (JPEG)-LT IF=100, the image-folder
# CIFAR-10 in data/cifar10-jpeg. Needs
# data/synthetic/cifar10jpeg_lt_if100/manifest.jsonl.
_base_ = [
    '../_base_/datasets/sau_cifar10_jpeg_lt.py',
    '../_base_/models/sau_resnet32_wide.py',
    '../_base_/schedules/sau_cifar_200e.py', '../_base_/sau_runtime.py'
]
