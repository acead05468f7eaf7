"""Logit-adjusted cross-entropy (Menon et al., ICLR 2021, "Long-tail
learning via logit adjustment")."""
from typing import Optional, Sequence

import torch
from mmpretrain.registry import MODELS

from .utils import ClassCountsLoss, soft_target_nll, training_log_prior


@MODELS.register_module()
class LogitAdjustedLoss(ClassCountsLoss):
    r"""Logit-adjusted softmax cross-entropy.

    loss = CE(z + tau * log(pi), y) with the training prior
    pi_c = n_c / sum_k n_k; a soft target t (N, C) gives
    -sum_c t_c log softmax(z + tau * log(pi))_c. ``tau=1`` is Balanced
    Softmax (Ren et al., NeurIPS 2020). Only the training loss is adjusted:
    heads call the loss in training only, so predicted logits stay plain z.
    Reduction follows MMPretrain losses (per-sample ``weight``,
    ``avg_factor``).

    Args:
        tau (float): adjustment strength. Default 1.0.
        class_counts (Sequence[int], optional): training samples per class;
            usually left None and set by ``ClassCountsHook`` through
            :meth:`set_class_counts` before training.
        reduction (str): 'none', 'mean' or 'sum'. Default 'mean'.
        loss_weight (float): multiplier of the loss. Default 1.0.
    """

    def __init__(self,
                 tau: float = 1.0,
                 class_counts: Optional[Sequence[int]] = None,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0):
        super().__init__(reduction, loss_weight)
        self.tau = tau
        if class_counts is not None:
            self.set_class_counts(class_counts)

    def set_class_counts(self, counts: Sequence[int]) -> None:
        """log pi_c = log(n_c / sum_k n_k)."""
        self.log_prior = training_log_prior(counts)

    def per_sample(self, z: torch.Tensor,
                   target: torch.Tensor) -> torch.Tensor:
        return soft_target_nll(z + self.tau * self.log_prior.to(z), target)
