# Small DiffuLT generator preset for CPU smoke runs and tests: a 1.1M-parameter
# UNet (ch 32, ch_mult (1, 2, 2), 1 res block, attention at 16x16), batch 16,
# 20k iterations, 500-iteration warm-up, EMA 0.999.
_base_ = './ddpm_cifar10jpeg_lt.py'
model = dict(unet=dict(
    block_out_channels=(32, 64, 64),
    layers_per_block=1,
    down_block_types=('DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D'),
    up_block_types=('UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'),
    norm_num_groups=8))
train_dataloader = dict(batch_size=16, num_workers=2)
param_scheduler = [
    dict(type='LinearLR', start_factor=1 / 500, by_epoch=False, begin=0,
         end=500),
]
train_cfg = dict(max_iters=20000)
default_hooks = dict(logger=dict(interval=50),
                     checkpoint=dict(interval=1000))
custom_hooks = [
    dict(type='IterRNGStateHook'),
    dict(type='EMAHook', momentum=1e-3),
    dict(type='DiffusionSamplesHook', interval=1000, per_class=4,
         guidance=0.8, sampler='ddim', steps=20),
]
