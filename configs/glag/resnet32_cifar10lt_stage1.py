# GLAG stage 1: classic ResNet-32, CIFAR-10-LT (IF=100; other IFs:
# --cfg-options train_dataloader.dataset.imbalance_factor=50), Gradual
# Balanced Loss, the CIFAR baselines' schedule (200 epochs).
_base_ = [
    '../_base_/datasets/cifar10_lt.py', '../_base_/models/glag_resnet32.py',
    '../_base_/schedules/cifar_lt_200e.py', '../_base_/glag_runtime.py'
]
