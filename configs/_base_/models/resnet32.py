# Classic ResNet-32 (16/32/64 channels, 0.46M parameters).
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet32', base_channels=16),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
