# CIFAR-100-LT from the python-pickle CIFAR-100 under data/cifar100
# (data/cifar100/cifar-100-python).
_base_ = './cifar10_lt.py'
data_root = 'data/cifar100'
source = 'cifar100'
num_classes = 100
data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(dataset=dict(
    data_root=data_root, source=source, num_classes=num_classes))
val_dataloader = dict(dataset=dict(
    data_root=data_root, source=source, num_classes=num_classes))
test_dataloader = val_dataloader
