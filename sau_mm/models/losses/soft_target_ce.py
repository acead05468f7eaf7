"""Soft-target cross-entropy (the loss of SAU's MixUp / CutMix branch)."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from .class_balanced_loss import as_soft_target


def soft_target_cross_entropy(logits: torch.Tensor,
                              soft_targets: torch.Tensor,
                              weight: Optional[torch.Tensor] = None,
                              avg_factor: Optional[float] = None
                              ) -> torch.Tensor:
    """l_i = -sum_k t_ik log softmax(logits_i)_k; returns sum_i w_i l_i / N.

    ``weight`` (N,) is a per-sample weight (None: all 1). The sum is divided
    by N (or ``avg_factor``), not by sum_i w_i: all-ones weights give the
    plain mean, and down-weighted samples shrink the loss instead of being
    renormalised away.
    """
    loss = -(soft_targets.to(logits.dtype)
             * F.log_softmax(logits, dim=-1)).sum(-1)
    if weight is not None:
        loss = loss * weight.to(loss.dtype).view(-1)
    return loss.sum() / (loss.numel() if avg_factor is None else avg_factor)


@MODELS.register_module()
class SoftTargetCrossEntropyLoss(nn.Module):
    """``loss_weight * soft_target_cross_entropy``; the target is (N, C) soft
    scores or (N,) class indices (taken as one-hot), so it also serves as an
    MMPretrain head's ``loss`` (the head passes ``avg_factor=N``)."""

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self,
                cls_score: torch.Tensor,
                target: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None) -> torch.Tensor:
        target = as_soft_target(target, cls_score.size(-1)).to(
            cls_score.device)
        return self.loss_weight * soft_target_cross_entropy(
            cls_score, target, weight, avg_factor)
