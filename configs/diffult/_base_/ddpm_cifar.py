# DiffuLT generator, 32x32: the class-conditional DDPM of Ho et al. (CIFAR-10
# settings) trained from scratch on the long-tailed training set by MMEngine's
# runner. UNet ch 128, ch_mult (1, 2, 2, 2), 2 res blocks, attention at 16x16,
# dropout 0.1; T = 1000, linear betas 1e-4..0.02; Adam 2e-4, 5k-iteration
# linear warm-up, grad clip 1, EMA 0.9999; 300k iterations at batch 64;
# classifier-free guidance training with label dropout 0.1.
# Mixed precision on GPU: tools/train.py ... --amp.
_base_ = ['../../_base_/default_runtime.py']
custom_imports = dict(imports=['sau_mm', 'sau_mm.generation.diffult'],
                      allow_failed_imports=False)

model = dict(
    type='ClassConditionalDDPM',
    num_classes=10,
    p_uncond=0.1,
    num_train_timesteps=1000,
    beta_start=1e-4,
    beta_end=0.02,
    beta_schedule='linear',
    # uint8 RGB -> [-1, 1]
    data_preprocessor=dict(type='ClsDataPreprocessor', mean=[127.5] * 3,
                           std=[127.5] * 3, to_rgb=False),
    unet=dict(
        sample_size=32,
        in_channels=3,
        out_channels=3,
        block_out_channels=(128, 256, 256, 256),
        layers_per_block=2,
        down_block_types=('DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D',
                          'DownBlock2D'),
        up_block_types=('UpBlock2D', 'UpBlock2D', 'AttnUpBlock2D',
                        'UpBlock2D'),
        attention_head_dim=None,  # one head, as DDPM
        dropout=0.1,
        norm_num_groups=32))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=2e-4),
    clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1 / 5000, by_epoch=False, begin=0,
         end=5000),
]
train_cfg = dict(type='ExactResumeIterBasedTrainLoop', max_iters=300000)
val_cfg = None
test_cfg = None
log_processor = dict(by_epoch=False)

default_hooks = dict(
    logger=dict(type='EarlyLoggerHook', interval=100),
    checkpoint=dict(_delete_=True, type='AtomicCheckpointHook',
                    by_epoch=False, interval=10000, max_keep_ckpts=3,
                    save_last=True),
)
# EMA: averaged = (1 - momentum) * averaged + momentum * weights, i.e.
# decay 0.9999; checkpoints hold the EMA weights in `state_dict` (the raw
# ones in `ema_state_dict`), so sampling loads the EMA model.
custom_hooks = [
    dict(type='IterRNGStateHook'),
    dict(type='EMAHook', momentum=1e-4),
    dict(type='DiffusionSamplesHook', interval=5000, per_class=8,
         guidance=0.8, sampler='ddim', steps=50),
]
