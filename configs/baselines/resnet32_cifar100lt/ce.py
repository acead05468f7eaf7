# Cross-entropy baseline: classic ResNet-32, CIFAR-100-LT.
# Other imbalance factors: --cfg-options train_dataloader.dataset.imbalance_factor=50
_base_ = [
    '../../_base_/datasets/cifar100_lt.py', '../../_base_/models/resnet32.py',
    '../../_base_/schedules/cifar_lt_200e.py', '../../_base_/default_runtime.py'
]
model = dict(head=dict(num_classes=_base_.num_classes))
