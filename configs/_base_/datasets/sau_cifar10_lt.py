# SAU's training data for CIFAR-10-LT: real LT images + a synthetic complement
# (manifest), three views per sample and an independent mix partner
# (METHOD.md, 3). Validation/test as in cifar10_lt.py.
_base_ = './cifar10_lt.py'

view1 = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
]
view2 = view1 + [dict(type='CIFAR10AutoAugment'),
                 dict(type='SAUCutout', n_holes=1, length=16)]
view3 = [dict(type='SimAugment', size=32)]
sau_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='MultiView', num_views=[1, 1, 1],
         transforms=[view1, view2, view3]),
    dict(type='PackInputs', algorithm_keys=['is_synthetic']),
]
partner_pipeline = [dict(type='LoadImage')] + view1 + [dict(type='PackInputs')]

synthetic_manifest = 'data/synthetic/cifar10_lt_if100/manifest.jsonl'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='MixPartnerDataset',
        partner_pipeline=partner_pipeline,
        dataset=dict(
            type='LongTailSyntheticDataset',
            data_root='data/cifar10',
            source='cifar10',
            split='train',
            num_classes=10,
            imbalance_factor=100,
            subset_seed=0,
            synthetic_manifest=synthetic_manifest,
            pipeline=sau_train_pipeline)))
