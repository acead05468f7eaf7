# DiffuLT generator on CIFAR-10 (JPEG)-LT (IF 100), the image-folder CIFAR-10
# in data/cifar10-jpeg: the same real subset as the classifiers. Train:
# python tools/train.py configs/diffult/ddpm_cifar10jpeg_lt.py [--amp] [--resume]
_base_ = './ddpm_cifar10lt.py'
train_dataloader = dict(dataset=dict(data_root='data/cifar10-jpeg',
                                     source='image_folder'))
