# Cross-entropy baseline: classic ResNet-32, CIFAR-10 (JPEG)-LT (data/cifar10-jpeg).
# Other imbalance factors: --cfg-options train_dataloader.dataset.imbalance_factor=50
_base_ = [
    '../../_base_/datasets/cifar10_jpeg_lt.py', '../../_base_/models/resnet32.py',
    '../../_base_/schedules/cifar_lt_200e.py', '../../_base_/default_runtime.py'
]
