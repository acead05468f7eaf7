# Runtime shared by every config: sau_mm components in MMPretrain's scope.
default_scope = 'mmpretrain'
custom_imports = dict(imports=['sau_mm'], allow_failed_imports=False)

# AtomicCheckpointHook: MMEngine's CheckpointHook (same options) with
# kill-proof writes and the best-so-far state carried through --resume.
# EarlyLoggerHook: MMEngine's LoggerHook that also logs the 1st and 10th
# iteration of every start (a busy CPU takes minutes to reach the 50th).
# RunInfoHook: commit, device, config, schedule and wall time of every start
# in WORK_DIR/run_info.json (read by tools/analysis/); a default hook, so
# configs that replace custom_hooks (DiffuLT) keep it.
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='EarlyLoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', interval=10, max_keep_ckpts=3,
                    save_last=True, save_best='lt/top1', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
    run_info=dict(type='RunInfoHook'),
)
# Class counts for re-balancing losses and many/medium/few metrics; exact
# resume of the training randomness.
custom_hooks = [dict(type='ClassCountsHook'), dict(type='RNGStateHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
