# DiffuLT generator on CIFAR-10-LT (IF 100): the same real subset as the
# classifiers (same dataset config, imbalance factor and subset seed; no
# synthetic manifest). Train:
#   python tools/train.py configs/diffult/ddpm_cifar10lt.py [--amp] [--resume]
# other IFs: --cfg-options train_dataloader.dataset.imbalance_factor=50
_base_ = ['../_base_/datasets/cifar10_lt.py', './_base_/ddpm_cifar.py']
model = dict(num_classes=10)
data_preprocessor = None  # the model carries its own ([-1, 1] scaling)

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    # endless shuffled stream: no epoch boundaries (mmengine's iteration loop
    # sleeps 2 s at each one), same order on resume
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline, synthetic_manifest=None))
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
