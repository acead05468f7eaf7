# Noise ablation L1 (Table 3): drop flagged synthetic samples from L_SC.
_base_ = '../resnet32_cifar100lt.py'
model = dict(contrastive_loss=dict(noise_strategy='drop'))
