# CIFAR-10 (JPEG)-LT: CIFAR-10 as an image folder, the archive
# cifar10-jpeg.tar.gz unpacked into data/cifar10-jpeg/{train,test}/<class>/
# NNNN.jpg (README "Data preparation").
_base_ = './cifar10_lt.py'
data_root = 'data/cifar10-jpeg'
source = 'image_folder'
train_dataloader = dict(dataset=dict(data_root=data_root, source=source))
val_dataloader = dict(dataset=dict(data_root=data_root, source=source))
test_dataloader = val_dataloader
