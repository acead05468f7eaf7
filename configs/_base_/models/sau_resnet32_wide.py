# SAU (METHOD.md, 3): widened ResNet-32 encoder, linear classifier trained on
# MixUp + CutMix, projection MLP trained with SupCon-noise (L2 "unique").
model = dict(
    type='DualBranchClassifier',
    num_classes=10,
    backbone=dict(type='ResNet32', base_channels=64),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=256,
              loss=dict(type='CrossEntropyLoss')),  # used by nothing in SAU training
    projector=dict(type='ProjectionMLP', in_channels=256,
                   hidden_channels=2048, out_channels=128),
    contrastive_loss=dict(type='SupConNoiseLoss', temperature=0.1,
                          noise_strategy='unique'),
    lambda_mix=1.0, beta_cut=1.0, gamma_sc=1.0, mix_alpha=1.0,
    mix_partner='loader',
    label_correction=dict(k=1, bank_size=0),
    synthetic_weight=1.0,
    concat_forward=False)
