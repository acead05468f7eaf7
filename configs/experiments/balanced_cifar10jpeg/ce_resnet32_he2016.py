# CE on the full, balanced CIFAR-10 (JPEG) training set (50,000 images),
# classic ResNet-32, device data path: the JPEG copy's effect on balanced data.
# Schedule of He et al. 2016 (Deep Residual Learning, Sec. 4.2): its ResNet-32
# reaches 7.51% test error (92.49% top-1) on the original CIFAR-10. SGD 0.1,
# momentum 0.9, weight decay 1e-4, batch 128, no warm-up, lr /10 at 32k and
# 48k iterations, stop at 64k (391 iterations an epoch: epochs 82, 123, 164).
_base_ = '../../baselines/resnet32_cifar10jpeg_lt/ce_device.py'
train_dataloader = dict(dataset=dict(imbalance_factor=None))
optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[82, 123], gamma=0.1),
]
train_cfg = dict(max_epochs=164, val_interval=4)
default_hooks = dict(checkpoint=dict(interval=1))
