# CIFAR-10-LT from the python-pickle CIFAR-10 under data/cifar10
# (data/cifar10/cifar-10-batches-py). Change the imbalance factor with
# --cfg-options train_dataloader.dataset.imbalance_factor=50 (10/50/100/200).
dataset_type = 'LongTailSyntheticDataset'
data_root = 'data/cifar10'
source = 'cifar10'
num_classes = 10

# CIFAR-10 statistics of the authors' code, RGB, x 255
# (docs/method.md#views-and-normalisation):
# mean (0.49139968, 0.48215827, 0.44653124), std (0.24703233, 0.24348505,
# 0.26158768). CIFAR-100 has its own (cifar100_lt.py).
data_preprocessor = dict(
    num_classes=num_classes,
    mean=[125.3069184, 122.95035885, 113.8654662],
    std=[62.99324415, 62.08868775, 66.7048584],
    to_rgb=False)  # LoadImage gives RGB

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),  # the dataset sets is_synthetic
]
test_pipeline = [dict(type='LoadImage'), dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        source=source,
        split='train',
        num_classes=num_classes,
        image_size=32,  # another size (e.g. synthetic 64x64) is resized
        imbalance_factor=100,
        # LDAM-DRW's split (docs/method.md#the-long-tailed-split)
        subset_method='ldam',
        subset_seed=0,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=4,
    persistent_workers=True,
    collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        source=source,
        split='test',
        num_classes=num_classes,
        image_size=32,
        pipeline=test_pipeline,
        test_mode=True))
val_evaluator = dict(type='LongTailAccuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
