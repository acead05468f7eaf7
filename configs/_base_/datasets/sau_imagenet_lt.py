# SAU's training data for ImageNet-LT at 224 px: the real LT images of
# imagenet_lt.py + a synthetic complement up to the largest class (1280),
# three views + a mix partner (see sau_cifar10_lt.py). Views at this
# resolution are our choice (the paper gives CIFAR's): v1 RandomResizedCrop
# + flip; v2 = v1 + MMPretrain's ImageNet AutoAugment + Cutout 112 px; v3
# SimAugment at 224.
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
    dict(type='SAUViews', v1=view1, v2=view2, v3=view3),
    dict(type='PackInputs'),  # the dataset sets is_synthetic
]
partner_pipeline = [dict(type='LoadImage')] + view1 + [dict(type='PackInputs')]

sau_dataset = dict(
    _base_.train_dataloader.dataset, pipeline=sau_train_pipeline,
    synthetic_manifest='data/synthetic/imagenet_lt/manifest.jsonl')
train_dataloader = dict(
    sampler=dict(_delete_=True, type='MixPartnerSampler', shuffle=True),
    dataset=dict(_delete_=True, type='MixPartnerDataset', dataset=sau_dataset,
                 partner_pipeline=partner_pipeline))
