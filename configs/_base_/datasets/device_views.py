# The device data path (README "Device data path"): the training loader moves
# dataset indices only (pipeline PackIndex); DecodedImagesHook decodes the
# training set once into a cache under data/cache/decoded and hands it to
# DeviceViewsDataPreprocessor, which draws each view on the device with the
# batched ops of sau_mm/models/utils/batch_views: the same transforms and
# distributions as the CPU pipelines they replace. A *_device config gives
# the preprocessor the CPU recipe itself (the baselines' train_pipeline
# crop + flip; SAU's view1, view2, view3 of sau_cifar_views.py, and view1
# for the partner): each transform becomes its batch op with the same
# parameters (sau_mm/models/utils/batch_views/recipe.py), so the recipe is
# written once.
index_pipeline = [dict(type='PackIndex')]  # the dataset sets is_synthetic
decoded_images_hook = dict(type='DecodedImagesHook')
# where the hook keeps the caches (read when the run starts, so
# --cfg-options decoded_cache_dir=DIR works)
decoded_cache_dir = 'data/cache/decoded'
device_num_workers = 2  # indices and labels only
