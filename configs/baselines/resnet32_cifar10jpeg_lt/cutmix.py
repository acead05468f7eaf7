# CutMix (alpha 1) with soft-target cross-entropy (MMPretrain batch augment).
_base_ = './ce.py'
model = dict(
    head=dict(loss=dict(type='CrossEntropyLoss', use_soft=True)),
    train_cfg=dict(augments=dict(type='CutMix', alpha=1.0)))
