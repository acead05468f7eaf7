"""FeatureStatisticsHook: WHEN GLAG stage 2's feature statistics are made."""
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner.utils import set_random_seed
from mmpretrain.registry import HOOKS

from .rng_state_hook import capture_rng_state, restore_rng_state
from .runner_access import real_image_loader


@HOOKS.register_module()
class FeatureStatisticsHook(Hook):
    """Once, before training, hand a model with
    ``compute_feature_statistics(loader)`` (``FeatureAugmentedClassifier``)
    a loader over exactly the REAL long-tailed training images (never the
    synthetic ones: ``dataset.real_indices``), through the training
    pipeline; the formulas live in ``CalibratedTailFeatures``. Under DDP each
    rank passes its shard ``real_indices[rank::world_size]`` and the model
    all-reduces the sums. A model without that method is left alone (so one
    GLAG runtime serves both stages).

    The pass runs with the global RNGs seeded with ``seed`` and restores
    them afterwards: the statistics are the same in a resumed run, and the
    training randomness is the same as without the pass.

    Args:
        batch_size: of the statistics pass.
        num_workers: its loader workers; None: the training loader's.
        seed: seed of the pass's augmentations.
    """
    priority = 'ABOVE_NORMAL'

    def __init__(self, batch_size: int = 256, num_workers=None,
                 seed: int = 0):
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed

    def before_train(self, runner) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        if not hasattr(model, 'compute_feature_statistics'):
            return
        state = capture_rng_state()
        set_random_seed(self.seed)
        try:
            summary = model.compute_feature_statistics(
                real_image_loader(runner, self.batch_size, self.num_workers))
        finally:
            restore_rng_state(state)
        if summary:
            print_log(summary, logger='current')
