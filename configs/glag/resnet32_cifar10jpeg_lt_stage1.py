# GLAG stage 1: classic ResNet-32, CIFAR-10 (JPEG)-LT in data/cifar10-jpeg
# (IF=100), Gradual Balanced Loss, the CIFAR baselines' schedule (200 epochs).
_base_ = [
    '../_base_/datasets/cifar10_jpeg_lt.py',
    '../_base_/models/glag_resnet32.py',
    '../_base_/schedules/cifar_lt_200e.py', '../_base_/glag_runtime.py'
]
