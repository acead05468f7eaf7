# Cross-entropy baseline, classic ResNet-32, on your own image folder
# (README "Your own data"). Point it at the folder with ONE setting:
#   python tools/train.py configs/baselines/resnet32_image_folder/ce.py \
#       --cfg-options image_folder.data_root=data/my_images
# (image_folder.num_classes and image_folder.image_size likewise; see
# configs/_base_/datasets/image_folder_lt.py).
_base_ = [
    '../../_base_/datasets/image_folder_lt.py',
    '../../_base_/models/resnet32.py',
    '../../_base_/schedules/cifar_lt_200e.py',
    '../../_base_/default_runtime.py'
]
model = dict(head=dict(num_classes=_base_.image_folder.num_classes))
image_folder_targets = dict(num_classes=[
    'data_preprocessor.num_classes', 'model.head.num_classes'])
