# Runtime of every SAU config: the default runtime's hooks plus SAU's
# prototype update (each epoch start) and label-correction report (each
# epoch end).
_base_ = './default_runtime.py'
custom_hooks = _base_.custom_hooks + [
    dict(type='PrototypeUpdateHook', batch_size=256),
    dict(type='LabelCorrectionHook'),
]
