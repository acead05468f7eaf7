# Noise ablation L3 (Table 3): flagged samples are only negatives in L_SC.
_base_ = '../resnet32_cifar100lt.py'
model = dict(contrastive_loss=dict(noise_strategy='negative_only'))
