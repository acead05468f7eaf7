# Component ablation (Table 4, 57.84): plain CE on real + synthetic with SAU's
# backbone and optimiser settings (SGD 0.01, wd 5e-3, cosine, no warm-up).
_base_ = '../../baselines/resnet32w_cifar100lt/ce_real_synthetic.py'
optim_wrapper = dict(optimizer=dict(lr=0.01, weight_decay=5e-3))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=200,
                        begin=0, end=200)]
# evaluated after every epoch like every SAU CIFAR run (best of the same
# evaluations)
train_cfg = dict(val_interval=1)
