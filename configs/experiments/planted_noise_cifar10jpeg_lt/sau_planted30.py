# Arm 3: SAU (classic ResNet-32, device data path, fp32) on real + the same
# complement as arm 2 (30% planted), every class filled to 1,000 images.
# Reduced protocol: 25 epochs, SAU's own schedule (cosine to 0 per epoch,
# lr 0.01, wd 5e-3, no warm-up) scaled from 200 to 25 epochs.
_base_ = '../../sau/resnet32_cifar10jpeg_lt_device.py'
model = dict(backbone=dict(base_channels=16), head=dict(in_channels=64))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=25,
                        begin=0, end=25)]
train_cfg = dict(max_epochs=25, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=1))
train_dataloader = dict(dataset=dict(dataset=dict(
    synthetic_manifest='data/synthetic/cifar10jpeg_lt_if100_oracle_planted30/'
    'manifest.jsonl',
    target_count=1000)))
