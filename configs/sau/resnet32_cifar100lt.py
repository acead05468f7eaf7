# SAU, widened ResNet-32, CIFAR-100-LT IF=100 (paper: 64.47 top-1 with GLIDE
# data). Needs data/synthetic/cifar100_lt_if100/manifest.jsonl (README).
_base_ = [
    '../_base_/datasets/sau_cifar100_lt.py',
    '../_base_/models/sau_resnet32_wide.py',
    '../_base_/schedules/sau_cifar_200e.py', '../_base_/default_runtime.py'
]
model = dict(num_classes=100, head=dict(num_classes=100))
custom_hooks = [
    dict(type='ClassCountsHook'),
    dict(type='RNGStateHook'),
    dict(type='PrototypeUpdateHook', batch_size=256),
    dict(type='LabelCorrectionHook'),
]
