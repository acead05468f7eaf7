# CE on CIFAR-10 (JPEG)-LT IF 100 filled with filtered DiffuLT samples;
# synthetic samples weighted lower in the loss:
# loss = sum_i w_i l_i / sum_i w_i, w = synthetic_weight for synthetic images.
# The manifest comes from tools/diffult_sample.py + tools/diffult_filter.py
# (see configs/diffult/README.md). synthetic_weight 0.5 is this toolkit's
# choice, not a value from the paper: tune it.
_base_ = '../baselines/resnet32_cifar10jpeg_lt/ce.py'
model = dict(head=dict(type='SyntheticWeightedClsHead', synthetic_weight=0.5))
train_dataloader = dict(dataset=dict(
    synthetic_manifest='data/synthetic/diffult_cifar10jpeg_lt_if100/'
    'manifest_filtered.jsonl',
    # filtering may leave a class short of the fill target: train with what
    # passed (a warning lists the short classes)
    allow_partial_fill=True))
