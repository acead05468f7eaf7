# SAU's training data for ImageNet-LT at 224 px: real LT images + synthetic
# complement up to the largest class (1280), three views + a mix partner.
# Views at this resolution are our choice (the paper gives CIFAR's):
# v1 RandomResizedCrop + flip; v2 + MMPretrain's ImageNet AutoAugment +
# Cutout 112 px; v3 SimAugment at 224.
_base_ = './imagenet_lt.py'

view1 = [
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
]
view2 = view1 + [
    dict(type='AutoAugment', policies='imagenet',
         hparams=dict(pad_val=[104, 116, 124])),
    dict(type='SAUCutout', n_holes=1, length=112),
]
view3 = [dict(type='SimAugment', size=224)]
sau_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='MultiView', num_views=[1, 1, 1],
         transforms=[view1, view2, view3]),
    dict(type='PackInputs', algorithm_keys=['is_synthetic']),
]
partner_pipeline = [dict(type='LoadImage')] + view1 + [dict(type='PackInputs')]

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='MixPartnerDataset',
        partner_pipeline=partner_pipeline,
        dataset=dict(
            type='LongTailSyntheticDataset',
            data_root='data/imagenet',
            source='split_file',
            split_file='ImageNet_LT_train.txt',
            num_classes=1000,
            synthetic_manifest='data/synthetic/imagenet_lt/manifest.jsonl',
            pipeline=sau_train_pipeline)))
