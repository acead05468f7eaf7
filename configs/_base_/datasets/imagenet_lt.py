# ImageNet-LT: images under data/imagenet (train/..., val/...) and the
# standard split files ImageNet_LT_{train,val,test}.txt in data/imagenet.
dataset_type = 'LongTailSyntheticDataset'
data_root = 'data/imagenet'
num_classes = 1000
data_preprocessor = dict(
    num_classes=num_classes,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=False)  # LoadImage gives RGB

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),  # the dataset sets is_synthetic
]
test_pipeline = [
    dict(type='LoadImage'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        source='split_file',
        split_file='ImageNet_LT_train.txt',
        num_classes=num_classes,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        source='split_file',
        split_file='ImageNet_LT_test.txt',
        num_classes=num_classes,
        pipeline=test_pipeline,
        test_mode=True))
val_evaluator = dict(type='LongTailAccuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
