"""Runner pieces of DiffuLT generator training: exact iteration-based resume
and a samples grid every N iterations."""
import os.path as osp

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import EMAHook, Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import IterBasedTrainLoop
from mmpretrain.registry import HOOKS, LOOPS
from PIL import Image

from sau_mm.engine.hooks.rng_state_hook import (RNGStateHook,
                                                capture_rng_state,
                                                restore_rng_state)
from sau_mm.utils.fileio import atomic_path
from ..diffult_layout import SAMPLES_DIR


@LOOPS.register_module()
class ExactResumeIterBasedTrainLoop(IterBasedTrainLoop):
    """IterBasedTrainLoop whose resume leaves the RNG state untouched.

    On resume mmengine replays the dataloader for the iterations already
    done (same data order, same worker augmentations); here the global RNG
    state (restored by :class:`IterRNGStateHook` in ``before_train_epoch``)
    is captured before that replay and restored after it, so the replay's
    augmentations in the main process do not shift the randomness of the
    iterations that follow.
    """

    def run(self):
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            state = capture_rng_state()
            for _ in range(self._iter):
                next(self.dataloader_iterator)
            restore_rng_state(state)
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            self.run_iter(next(self.dataloader_iterator))
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model


@HOOKS.register_module()
class IterRNGStateHook(RNGStateHook):
    """RNGStateHook for iteration-based training: every checkpoint stores
    the RNG state at the moment it is saved (the end of its iteration), so
    each resume, first or later, continues from that state."""

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_state'] = capture_rng_state()


def image_grid(images: torch.Tensor, nrow: int) -> np.ndarray:
    """(N, 3, H, W) uint8 -> one HxWx3 uint8 array, ``nrow`` images a row."""
    n, c, h, w = images.shape
    rows = -(-n // nrow)
    grid = images.new_zeros((rows * nrow, c, h, w))
    grid[:n] = images
    grid = grid.view(rows, nrow, c, h, w).permute(0, 3, 1, 4, 2)
    return grid.reshape(rows * h, nrow * w, c).cpu().numpy()


@HOOKS.register_module()
class DiffusionSamplesHook(Hook):
    """Every ``interval`` iterations, save ``samples/iter_<N>.png`` in the
    work dir: one row per class (``classes``, default up to 10 evenly
    spaced), ``per_class`` images each, sampled from the EMA weights when an
    EMAHook is registered. Its noise comes from a generator seeded with
    ``seed``, so grids are comparable across iterations and the training
    randomness is untouched.
    """
    priority = 'LOW'  # after EMAHook's update

    def __init__(self, interval: int = 5000, per_class: int = 8,
                 classes=None, guidance: float = 0.8, sampler: str = 'ddim',
                 steps: int = 50, seed: int = 0):
        self.interval = interval
        self.per_class = per_class
        self.classes = classes
        self.guidance = guidance
        self.sampler = sampler
        self.steps = steps
        self.seed = seed

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval) and \
                is_main_process():
            self.save_grid(runner, runner.iter + 1)

    def save_grid(self, runner, iteration: int) -> str:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        for hook in runner.hooks:
            if isinstance(hook, EMAHook):
                model = hook.ema_model.module
        classes = self.classes
        if classes is None:
            classes = np.unique(np.linspace(
                0, model.num_classes - 1, min(10, model.num_classes)).round()
                .astype(int)).tolist()
        labels = [c for c in classes for _ in range(self.per_class)]
        generators = [torch.Generator().manual_seed(self.seed + i)
                      for i in range(len(labels))]
        was_training = model.training
        model.eval()
        images = model.sample(labels, generators, self.guidance,
                              self.sampler, self.steps)
        model.train(was_training)
        path = osp.join(runner.work_dir, SAMPLES_DIR,
                        f'iter_{iteration:07d}.png')
        with atomic_path(path) as tmp:
            Image.fromarray(image_grid(images, self.per_class)).save(
                tmp, format='PNG')
        runner.logger.info(f'Saved samples grid {path}')
        return path
