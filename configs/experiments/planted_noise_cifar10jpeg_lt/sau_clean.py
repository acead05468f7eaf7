# Arm 4: SAU as arm 3 on real + the clean oracle complement (0% planted),
# every class filled to 1,000 images.
_base_ = './sau_planted30.py'
train_dataloader = dict(dataset=dict(dataset=dict(
    synthetic_manifest='data/synthetic/cifar10jpeg_lt_if100_oracle/'
    'manifest.jsonl')))
