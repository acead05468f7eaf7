# SAU (docs/method.md#sau-paper-section-3) on the widened ResNet-32: the
# linear classifier trained on MixUp + CutMix through its soft-target CE, the
# projection MLP phi (256 -> 2048 -> 2048 -> 128) trained with SupCon-noise
# (tau 0.1, L2 "unique"). Every value below is the authors'; see
# DualBranchClassifier for the options.
_base_ = './resnet32_wide.py'
model = dict(
    type='DualBranchClassifier',
    # linear_init owns the head's init; 'module_default' gives MMPretrain's
    # head init (normal, std 0.01), not the CE baselines' Kaiming init_cfg
    head=dict(init_cfg=dict(_delete_=True, type='Normal', layer='Linear',
                            std=0.01),
              loss=dict(type='CrossEntropyLoss', use_soft=True)),
    projector=dict(type='ProjectionMLP', hidden_channels=2048,
                   out_channels=128),
    contrastive_loss=dict(type='SupConNoiseLoss', temperature=0.1,
                          noise_strategy='unique'),
    lambda_mix=1.0, beta_cut=1.0, gamma_sc=1.0, mix_alpha=1.0,
    mix_partner='loader',
    cutmix_label='drawn',
    label_correction=dict(k=1, bank_size=0),
    synthetic_weight=1.0,
    concat_forward=False,
    normalize_prototypes=False,
    linear_init='kaiming_normal')
