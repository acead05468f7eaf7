"""RNGStateHook: exact resume and evaluation-independent training randomness."""
import random

import numpy as np
import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


def capture_rng_state() -> dict:
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make epoch e+1 start from the RNG state at the end of epoch e.

    The state is captured after each training epoch, saved in checkpoints
    (``rng_state``) and restored before the next training epoch, both in a
    straight run and after ``--resume``. So a resumed run continues exactly
    (augmentations and mixing ratios with ``num_workers=0``; with workers,
    their seeds derive from the restored torch state; the data order and
    the mix partners depend only on (seed, epoch) through the samplers), and
    the validation schedule never changes the training randomness.
    """
    priority = 'VERY_HIGH'

    def __init__(self):
        self._state = None

    def after_train_epoch(self, runner) -> None:
        self._state = capture_rng_state()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_state'] = self._state or capture_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._state = checkpoint.get('rng_state')

    def before_train_epoch(self, runner) -> None:
        if self._state is not None:
            restore_rng_state(self._state)
