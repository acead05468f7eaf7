# CE on real + synthetic: the LT set filled to the largest class with the
# synthetic manifest (paper Table 1, "CE (real+synthetic)").
_base_ = './ce.py'
train_dataloader = dict(dataset=dict(
    synthetic_manifest='data/synthetic/cifar100_lt_if100/manifest.jsonl'))
