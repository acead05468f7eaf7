# SAU on CIFAR-10 (JPEG)-LT IF=100, the image-folder CIFAR-10 of ../shared/data
# in data/cifar10-jpeg. Needs data/synthetic/cifar10jpeg_lt_if100/manifest.jsonl.
_base_ = './resnet32_cifar10lt.py'
train_dataloader = dict(dataset=dict(dataset=dict(
    data_root='data/cifar10-jpeg', source='image_folder',
    synthetic_manifest='data/synthetic/cifar10jpeg_lt_if100/manifest.jsonl')))
val_dataloader = dict(dataset=dict(data_root='data/cifar10-jpeg',
                                   source='image_folder'))
test_dataloader = val_dataloader
