# SAU on CIFAR100-LT with imbalance factor 200 (synthetic complement for IF=200).
_base_ = './resnet32_cifar100lt.py'
train_dataloader = dict(dataset=dict(dataset=dict(
    imbalance_factor=200,
    synthetic_manifest='data/synthetic/cifar100_lt_if200/manifest.jsonl')))
