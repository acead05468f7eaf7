# SAU, widened ResNet-32, CIFAR-100-LT IF=100 (paper: 64.47 top-1 with GLIDE
# data). Needs data/synthetic/cifar100_lt_if100/manifest.jsonl (README).
_base_ = [
    '../_base_/datasets/sau_cifar100_lt.py',
    '../_base_/models/sau_resnet32_wide.py',
    '../_base_/schedules/sau_cifar_200e.py', '../_base_/sau_runtime.py'
]
model = dict(head=dict(num_classes=_base_.num_classes))
