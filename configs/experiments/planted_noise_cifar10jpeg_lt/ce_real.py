# Planted-noise experiment, arm 1: CE on the real CIFAR-10 (JPEG)-LT set
# (IF=100, classic ResNet-32, device data path, fp32).
# The reduced CPU protocol shared by every arm: 25 epochs, each method's own
# 200-epoch schedule scaled to 25 (here LDAM-DRW's: warm-up 5 -> 1 epoch,
# lr x0.01 at 160/180 -> 20/23), evaluation after every epoch.
_base_ = '../../baselines/resnet32_cifar10jpeg_lt/ce_device.py'
param_scheduler = [
    dict(type='LinearLR', start_factor=0.2, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, milestones=[20, 23], gamma=0.01),
]
train_cfg = dict(max_epochs=25, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=1))
