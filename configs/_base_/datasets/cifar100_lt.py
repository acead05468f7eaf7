# CIFAR-100-LT from the python-pickle CIFAR-100 under data/cifar100
# (data/cifar100/cifar-100-python).
_base_ = './cifar10_lt.py'
data_root = 'data/cifar100'
source = 'cifar100'
num_classes = 100
# CIFAR-100 statistics of the authors' code, RGB, x 255
# (docs/method.md#views-and-normalisation):
# mean (0.4914, 0.4822, 0.4465), std (0.2023, 0.1994, 0.2010).
data_preprocessor = dict(
    num_classes=num_classes,
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255])
train_dataloader = dict(dataset=dict(
    data_root=data_root, source=source, num_classes=num_classes))
val_dataloader = dict(dataset=dict(
    data_root=data_root, source=source, num_classes=num_classes))
test_dataloader = val_dataloader
