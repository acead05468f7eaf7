# SAU's views of a 32x32 training image
# (docs/method.md#views-and-normalisation), put in SAUView order by SAUViews:
# v1 crop + flip (classification branch); v2 = v1 + AutoAugment (CIFAR-10
# policy, gray fill) + Cutout (1 hole, 16 px, zero fill); v3
# SimAugment (RandomResizedCrop 0.2..1, flip, ColorJitter p 0.8, grayscale
# p 0.2, PIL Gaussian blur p 0.5). The mix partner gets v1.
# The one definition of these views: the device path (*_device.py) draws
# the same lists with batch ops (sau_mm/models/utils/batch_views/recipe.py),
# and other image sizes scale these numbers
# (sau_mm/datasets/transforms/sizing.py).
view1 = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
]
view2 = view1 + [dict(type='CIFAR10AutoAugment'),
                 dict(type='SAUCutout', n_holes=1, length=16)]
view3 = [dict(type='SimAugment', size=32)]
sau_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='SAUViews', v1=view1, v2=view2, v3=view3),
    dict(type='PackInputs'),  # the dataset sets is_synthetic
]
partner_pipeline = [dict(type='LoadImage')] + view1 + [dict(type='PackInputs')]
