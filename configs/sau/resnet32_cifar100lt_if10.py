# SAU on CIFAR100-LT with imbalance factor 10 (synthetic complement for IF=10).
_base_ = './resnet32_cifar100lt.py'
train_dataloader = dict(dataset=dict(dataset=dict(
    imbalance_factor=10,
    synthetic_manifest='data/synthetic/cifar100_lt_if10/manifest.jsonl')))
