"""DecodedImagesHook: WHEN the device data path gets its images and seeds."""
from typing import Optional

from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from sau_mm.datasets.image_cache import build_or_load
from .runner_access import find_long_tail_dataset

# augmentation streams of DeviceViewsDataPreprocessor.reseed
EPOCH_START_STREAM = 0  # the per-epoch passes (SAU's prototypes)
TRAIN_ITER_STREAM = 1   # each training iteration
DEFAULT_CACHE_DIR = 'data/cache/decoded'


@HOOKS.register_module()
class DecodedImagesHook(Hook):
    """Before training, decode the training set once (or load it) with
    :func:`~sau_mm.datasets.image_cache.build_or_load` under ``cache_dir``
    and hand the array to the model's
    :class:`~sau_mm.models.utils.DeviceViewsDataPreprocessor`, which keeps it
    on the device. Before every epoch and every training iteration, reseed
    the preprocessor's augmentation generator from (run seed, stream,
    epoch or iteration, rank): the draws of a batch depend on nothing else,
    so ``--resume`` reproduces the uninterrupted run.

    Args:
        cache_dir: folder of the decoded-image caches (one per key). None:
            the config's top-level ``decoded_cache_dir`` as the run sees it
            (so ``--cfg-options decoded_cache_dir=DIR`` works), else
            ``data/cache/decoded``.
        verify: check the cache's checksums when loading it.
    """
    priority = 'HIGH'  # before PrototypeUpdateHook's epoch-start pass

    def __init__(self, cache_dir: Optional[str] = None, verify: bool = True):
        self.cache_dir = cache_dir
        self.verify = verify

    def _preprocessor(self, runner):
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        preprocessor = model.data_preprocessor
        if not hasattr(preprocessor, 'set_decoded_images'):
            raise TypeError(
                'DecodedImagesHook feeds DeviceViewsDataPreprocessor, but '
                f'model.data_preprocessor is {type(preprocessor).__name__}: '
                'set data_preprocessor.type=DeviceViewsDataPreprocessor (see '
                'the *_device configs) or remove the hook.')
        return preprocessor

    def before_train(self, runner) -> None:
        preprocessor = self._preprocessor(runner)
        dataset = find_long_tail_dataset(runner)
        cache_dir = self.cache_dir or runner.cfg.get('decoded_cache_dir',
                                                     DEFAULT_CACHE_DIR)
        decoded = build_or_load(dataset, cache_dir,
                                image_size=dataset.target_size,
                                verify=self.verify)
        preprocessor.set_decoded_images(decoded.images)
        runner.logger.info(
            f'Device data path: {len(decoded)} decoded training images '
            f'{tuple(decoded.images.shape[1:])} from {decoded.path} on '
            f'{preprocessor.device}.')

    def before_train_epoch(self, runner) -> None:
        self._preprocessor(runner).reseed(runner.seed, EPOCH_START_STREAM,
                                          runner.epoch, get_dist_info()[0])

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        self._preprocessor(runner).reseed(runner.seed, TRAIN_ITER_STREAM,
                                          runner.iter, get_dist_info()[0])
