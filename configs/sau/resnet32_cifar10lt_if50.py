# SAU on CIFAR10-LT with imbalance factor 50 (synthetic complement for IF=50).
_base_ = './resnet32_cifar10lt.py'
train_dataloader = dict(dataset=dict(dataset=dict(
    imbalance_factor=50,
    synthetic_manifest='data/synthetic/cifar10_lt_if50/manifest.jsonl')))
