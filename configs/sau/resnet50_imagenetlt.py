# SAU, ResNet-50, ImageNet-LT (paper: 53.7 top-1; many 62.3, medium 51.7,
# few 37.2). Needs data/synthetic/imagenet_lt/manifest.jsonl.
_base_ = [
    '../_base_/datasets/sau_imagenet_lt.py',
    '../_base_/models/sau_resnet50.py',
    '../_base_/schedules/imagenet_lt_180e.py', '../_base_/sau_runtime.py'
]
