# SAU, widened ResNet-32, CIFAR-10-LT IF=100 (paper: 92.21 top-1 with GLIDE
# data). Needs data/synthetic/cifar10_lt_if100/manifest.jsonl (README).
_base_ = [
    '../_base_/datasets/sau_cifar10_lt.py',
    '../_base_/models/sau_resnet32_wide.py',
    '../_base_/schedules/sau_cifar_200e.py', '../_base_/sau_runtime.py'
]
