# CIFAR-10 (JPEG)-LT: the image-folder CIFAR-10 of ../shared/data, unpacked
# into data/cifar10-jpeg/{train,test}/<class>/NNNN.jpg (see README).
_base_ = './cifar10_lt.py'
data_root = 'data/cifar10-jpeg'
source = 'image_folder'
train_dataloader = dict(dataset=dict(data_root=data_root, source=source))
val_dataloader = dict(dataset=dict(data_root=data_root, source=source))
test_dataloader = val_dataloader
