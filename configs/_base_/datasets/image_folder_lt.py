# Your own image folder (README "Your own data"):
#   <data_root>/train/<class>/<image>   training images (long-tailed or not)
#   <data_root>/test/<class>/<image>    test images, the same class folders
# Labels are the positions of the sorted class-folder names.
#
# The three settings, each set ONCE, here or on the command line:
#   --cfg-options image_folder.data_root=data/my_images
#                 image_folder.num_classes=101   (None: count the folders)
#                 image_folder.image_size=64
# tools/*.py copy them into the places image_folder_targets names after the
# command line is read (sau_mm/engine/image_folder_settings.py), so the
# config dumped into the work dir shows the values used. Do not set the
# copies (train_dataloader.dataset.data_root, model.head.num_classes, ...)
# yourself: that is an error naming the image_folder key to use.
image_folder = dict(
    data_root='data/my_images',
    # None: the number of class folders in <data_root>/train
    num_classes=None,
    # every image is resized to image_size x image_size when loaded (aspect
    # ratio not kept; the log counts the resized images); crops follow it
    image_size=32)
# What each setting reaches, and nothing else: all three go into the
# LongTailSyntheticDataset of every dataloader (below its wrappers), and
# into the dotted keys listed here (a leaf config lists its own):
# num_classes / image_size: keys that take the value; sized_pipelines: lists
# of transforms (or of views) sized to image_size S from their own numbers
# (sau_mm/datasets/transforms/sizing.py: RandomCrop S with padding S/8,
# SimAugment S, SAUCutout S/2 for the recipes here).
image_folder_targets = dict(
    num_classes=['data_preprocessor.num_classes'],
    image_size=[],
    sized_pipelines=['train_dataloader.dataset.pipeline'])

dataset_type = 'LongTailSyntheticDataset'
# ImageNet statistics (RGB, x 255): a neutral choice for photos.
data_preprocessor = dict(
    num_classes=image_folder['num_classes'],
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=False)  # LoadImage gives RGB

train_pipeline = [
    dict(type='LoadImage'),  # resized to image_size by the dataset's rule
    dict(type='RandomCrop', crop_size=image_folder['image_size'],
         padding=image_folder['image_size'] // 8),
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
        data_root=image_folder['data_root'],
        source='image_folder',
        split='train',
        num_classes=image_folder['num_classes'],
        image_size=image_folder['image_size'],
        # the folder is used as it is (already long-tailed); a number
        # (e.g. 100) draws an exponential long-tailed subset instead
        imbalance_factor=None,
        subset_method='ldam',
        subset_seed=0,
        # every image decoded once at start-up (None: folders of up to
        # 100,000 images); False skips it
        verify_real=None,
        # many: > 100 real training images, few: < 20 (the metric follows)
        shot_thresholds=dict(many_above=100, few_below=20),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=4,
    persistent_workers=True,
    collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=image_folder['data_root'],
        source='image_folder',
        split='test',
        num_classes=image_folder['num_classes'],
        image_size=image_folder['image_size'],
        pipeline=test_pipeline,
        test_mode=True))
val_evaluator = dict(type='LongTailAccuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
