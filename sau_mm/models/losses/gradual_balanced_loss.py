"""Gradual Balanced Loss: GLAG stage 1
(docs/method.md#stage-1-gradual-balanced-loss-our-choice).

GLAG's code and full text are not public; the formula below is this
project's documented choice, not GLAG's published one."""
from typing import Optional, Sequence

import torch
from mmpretrain.registry import MODELS

from .utils import ClassCountsLoss, soft_target_nll, training_log_prior


@MODELS.register_module()
class GradualBalancedLoss(ClassCountsLoss):
    r"""Cross-entropy that moves gradually to Balanced Softmax:

        L_t = (1 - a_t) CE(z, y) + a_t CE(z + log pi, y),
        a_t = min(1, (t / T)^p),

    with pi_c = n_c / sum_k n_k the training prior (set through
    :meth:`set_class_counts` by ``ClassCountsHook``, like the other
    re-balancing losses), t the fractional epoch (iteration / iterations per
    epoch, set through :meth:`set_progress` by ``TrainingProgressHook``
    before every iteration) and T the last epoch of the run unless
    ``end_epoch`` is given. A soft target t (N, C) gives
    -sum_c t_c log softmax(.)_c in both terms. Only the training loss
    changes; predictions stay plain z. Reduction follows MMPretrain losses
    (per-sample ``weight``, ``avg_factor``).

    This is this project's formula, not GLAG's published one.

    Args:
        power (float): p. Default 2.
        end_epoch (float, optional): T; None: the run's last epoch.
        class_counts (Sequence[int], optional): training samples per class;
            usually set by ``ClassCountsHook``.
        reduction (str): 'none', 'mean' or 'sum'. Default 'mean'.
        loss_weight (float): multiplier of the loss. Default 1.0.
    """

    def __init__(self,
                 power: float = 2.0,
                 end_epoch: Optional[float] = None,
                 class_counts: Optional[Sequence[int]] = None,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0):
        super().__init__(reduction, loss_weight)
        if power <= 0:
            raise ValueError(f'power must be > 0, got {power}.')
        if end_epoch is not None and end_epoch <= 0:
            raise ValueError(f'end_epoch must be > 0, got {end_epoch}.')
        self.power = power
        self.end_epoch = end_epoch
        self.alpha = None  # a_t, set by set_progress
        if class_counts is not None:
            self.set_class_counts(class_counts)

    def set_class_counts(self, counts: Sequence[int]) -> None:
        """log pi_c = log(n_c / sum_k n_k)."""
        self.log_prior = training_log_prior(counts)

    def set_progress(self, epoch: float,
                     max_epochs: Optional[float] = None) -> dict:
        """Set t = ``epoch`` (fractional) and a_t = min(1, (t / T)^p), T =
        ``end_epoch`` or else ``max_epochs``. Returns the scalars to log,
        ``{'glag_alpha': a_t}``."""
        end = self.end_epoch if self.end_epoch is not None else max_epochs
        if end is None or end <= 0:
            raise ValueError(
                'GradualBalancedLoss needs the schedule end T: set end_epoch '
                'or pass max_epochs (TrainingProgressHook passes the run\'s '
                'last epoch).')
        self.alpha = min(1.0, (max(0.0, float(epoch)) / end)**self.power)
        return {'glag_alpha': self.alpha}

    def check_ready(self) -> None:
        if self.alpha is None:
            raise RuntimeError(
                f'{type(self).__name__} needs the training progress before '
                "its first forward: add dict(type='TrainingProgressHook') to "
                'custom_hooks (it calls set_progress before every '
                'iteration), or call set_progress(epoch, max_epochs).')

    def per_sample(self, z: torch.Tensor,
                   target: torch.Tensor) -> torch.Tensor:
        ce = soft_target_nll(z, target)
        balanced = soft_target_nll(z + self.log_prior.to(z), target)
        return (1 - self.alpha) * ce + self.alpha * balanced
