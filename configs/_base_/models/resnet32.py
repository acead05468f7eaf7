# Classic ResNet-32 (16/32/64 channels, 0.46M parameters).
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet32', base_channels=16),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        # Kaiming-normal weights, std sqrt(2 / in_channels), as LDAM-DRW's and
        # the SAU authors' code initialise every Linear (MMPretrain's default:
        # normal, std 0.01); bias 0 (theirs: PyTorch's uniform default).
        init_cfg=dict(type='Kaiming', layer='Linear', mode='fan_in',
                      distribution='normal'),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
