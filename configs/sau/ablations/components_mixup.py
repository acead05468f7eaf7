# Component ablation (Table 4): mixup (loss weights lambda, beta, gamma).
_base_ = '../resnet32_cifar100lt.py'
model = dict(lambda_mix=1.0, beta_cut=0.0, gamma_sc=0.0)
