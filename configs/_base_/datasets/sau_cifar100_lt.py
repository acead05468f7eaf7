# SAU's training data for CIFAR-100-LT (see sau_cifar10_lt.py).
_base_ = ['./sau_cifar10_lt.py']
num_classes = 100
data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(dataset=dict(dataset=dict(
    data_root='data/cifar100', source='cifar100', num_classes=num_classes,
    synthetic_manifest='data/synthetic/cifar100_lt_if100/manifest.jsonl')))
val_dataloader = dict(dataset=dict(
    data_root='data/cifar100', source='cifar100', num_classes=num_classes))
test_dataloader = val_dataloader
