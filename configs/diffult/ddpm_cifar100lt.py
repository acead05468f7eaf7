# DiffuLT generator on CIFAR-100-LT (IF 100): the same real subset as the
# classifiers. Train: python tools/train.py configs/diffult/ddpm_cifar100lt.py
# [--amp] [--resume]
_base_ = './ddpm_cifar10lt.py'
model = dict(num_classes=100)
train_dataloader = dict(dataset=dict(data_root='data/cifar100',
                                     source='cifar100', num_classes=100))
