"""Logit-adjusted cross-entropy (Menon et al., ICLR 2021, "Long-tail
learning via logit adjustment")."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS

from .utils import (as_soft_target, check_class_counts, check_num_classes,
                    class_counts_missing, reduce_per_sample, soft_target_nll)


@MODELS.register_module()
class LogitAdjustedLoss(nn.Module):
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
        super().__init__()
        self.tau = tau
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.log_prior = None
        if class_counts is not None:
            self.set_class_counts(class_counts)

    def set_class_counts(self, counts: Sequence[int]) -> None:
        """log pi_c = log(n_c / sum_k n_k)."""
        counts = check_class_counts(counts)
        self.log_prior = torch.log(counts / counts.sum())

    def forward(self,
                cls_score: torch.Tensor,
                label: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        if self.log_prior is None:
            raise class_counts_missing(type(self).__name__)
        check_num_classes(self.log_prior, cls_score, type(self).__name__)
        assert reduction_override in (None, 'none', 'mean', 'sum')
        reduction = reduction_override or self.reduction
        z = cls_score.float()
        z = z + self.tau * self.log_prior.to(z)
        target = as_soft_target(label, z.size(-1)).to(z.device)
        loss = soft_target_nll(z, target)
        return self.loss_weight * reduce_per_sample(loss, weight, reduction,
                                                    avg_factor)
