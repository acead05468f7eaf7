# The device data path (README "Device data path"): the training loader moves
# dataset indices only (pipeline PackIndex); DecodedImagesHook decodes the
# training set once into a cache under data/cache/decoded and hands it to
# DeviceViewsDataPreprocessor, which draws each view on the device with the
# batched ops of sau_mm/models/utils/batch_views: the same transforms and
# distributions as the CPU pipelines they replace, listed here in the same
# order.
index_pipeline = [dict(type='PackIndex')]  # the dataset sets is_synthetic
# the CIFAR baselines' RandomCrop(32, padding 4) + RandomFlip(0.5), and SAU v1
device_crop_flip = [dict(type='BatchRandomCropFlip', crop_size=32, padding=4,
                         prob=0.5, img_size=32)]
# SAU's views in SAUView order (sau_cifar_views.py): v1; v1 + AutoAugment
# (CIFAR-10 policy, gray fill) + Cutout (1 hole, 16 px); SimAugment
device_sau_views = [
    device_crop_flip,
    device_crop_flip + [dict(type='BatchCIFAR10AutoAugment'),
                        dict(type='BatchCutout', n_holes=1, length=16,
                             img_size=32)],
    [dict(type='BatchSimAugment', size=32, img_size=32)],
]
decoded_images_hook = dict(type='DecodedImagesHook')
# where the hook keeps the caches (read when the run starts, so
# --cfg-options decoded_cache_dir=DIR works)
decoded_cache_dir = 'data/cache/decoded'
device_num_workers = 2  # indices and labels only
