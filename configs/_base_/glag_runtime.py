# Runtime of both GLAG stages: the default hooks plus TrainingProgressHook
# (stage 1: t and a_t to the Gradual Balanced Loss before every iteration,
# a_t logged as glag_alpha) and FeatureStatisticsHook (stage 2: the feature
# statistics of the real training images, once before training). Each acts
# only on a model that has its method.
_base_ = './default_runtime.py'
custom_hooks = _base_.custom_hooks + [
    dict(type='TrainingProgressHook'),
    dict(type='FeatureStatisticsHook', batch_size=256),
]
