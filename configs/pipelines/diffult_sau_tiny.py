# The DiffuLT -> SAU pipeline at smoke-test size, a few minutes on a 2-core
# CPU (tests/test_pipeline.py runs it): the stages of
# diffult_sau_cifar10jpeg_lt.py but GLAG, on a copy of the first 20 training /
# 10 test images of every class of data/cifar10-jpeg (IF 10 on it: 20 .. 2
# real images per class), a 2-level UNet trained 8 iterations, 2 DDIM
# steps, classic-width CE and a half-width SAU, 1-2 epochs, no loader worker
# processes. Its numbers mean nothing; it checks that the pipeline runs,
# resumes and verifies.
_base_ = './diffult_sau_cifar10jpeg_lt.py'
work_dir = 'work_dirs/pipelines/diffult_sau_tiny'
dataset = dict(
    subset=dict(source='data/cifar10-jpeg', per_class=dict(train=20, test=10)),
    train=dict(imbalance_factor=10,
               shot_thresholds=dict(many_above=12, few_below=4)))
num_workers = 0
_epochs = {'default_hooks.logger.interval': 2,
           'default_hooks.checkpoint.interval': 1,
           'train_cfg.val_interval': 1,
           'train_dataloader.batch_size': 32}
stages = dict(
    train_generator=dict(amp=False, cfg_options={
        'train_cfg.max_iters': 8,
        'train_dataloader.batch_size': 16,
        'model.unet.block_out_channels': (16, 32),
        'model.unet.down_block_types': ('DownBlock2D', 'AttnDownBlock2D'),
        'model.unet.up_block_types': ('AttnUpBlock2D', 'UpBlock2D'),
        'model.unet.norm_num_groups': 4,
        'default_hooks.logger.interval': 2,
        'default_hooks.checkpoint.interval': 2,
        'custom_hooks.2.interval': 1000}),  # no sample grids
    sample=dict(steps=2, batch_size=64),
    train_ce=dict(cfg_options=dict(_epochs, **{'train_cfg.max_epochs': 2})),
    filter=dict(batch_size=64),
    train_sau=dict(cfg_options=dict(_epochs, **{
        'train_cfg.max_epochs': 1,
        'model.backbone.base_channels': 8,  # half the classic width
        'model.head.in_channels': 32,
        'model.projector.hidden_channels': 64,
        'model.projector.out_channels': 16})),
    train_ce_diffult=dict(
        cfg_options=dict(_epochs, **{'train_cfg.max_epochs': 1})),
    train_glag_stage1=None,
    train_glag_stage2=None,
    compare=dict(runs=['train_ce', 'train_sau', 'train_ce_diffult']),
)
