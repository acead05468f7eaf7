"""PrototypeUpdateHook: WHEN SAU's class prototypes are recomputed."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from .runner_access import real_image_loader


@HOOKS.register_module()
class PrototypeUpdateHook(Hook):
    """At the start of every training epoch, hand the model a loader over
    exactly the REAL long-tailed training images (the subset that is trained
    on, through the training pipeline: views in SAUView order) and let it
    recompute its prototypes (``model.update_prototypes``; the formula lives
    in :class:`~sau_mm.models.utils.ClassPrototypes`). Under DDP each rank
    passes its shard ``real_indices[rank::world_size]``; the model
    all-reduces the sums.

    Args:
        batch_size: of the embedding pass.
        num_workers: loader workers of the embedding pass (it augments every
            real image); None: those of the training loader.
    """
    priority = 'ABOVE_NORMAL'

    def __init__(self, batch_size: int = 256,
                 num_workers: Optional[int] = None):
        self.batch_size = batch_size
        self.num_workers = num_workers

    def before_train_epoch(self, runner) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        model.update_prototypes(
            real_image_loader(runner, self.batch_size, self.num_workers))
