"""Class-Balanced loss (Cui et al., CVPR 2019, "Class-Balanced Loss Based on
Effective Number of Samples")."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from .utils import ClassCountsLoss, check_class_counts

LOSS_TYPES = ('softmax', 'focal', 'sigmoid')


@MODELS.register_module()
class ClassBalancedLoss(ClassCountsLoss):
    r"""Class-Balanced loss.

    Class weights from the effective number of samples
    E_c = (1 - beta^{n_c}) / (1 - beta):
    w_c = (1 - beta) / (1 - beta^{n_c}), rescaled so that sum_c w_c = C.

    Per-sample loss for a label y (logits z, p = sigmoid(z)):

    - ``'softmax'``: w_y * CE(z, y) = -w_y log softmax(z)_y;
    - ``'sigmoid'``: w_y * sum_c BCE(z_c, [c == y]);
    - ``'focal'``:   w_y * sum_c (1 - p_t,c)^gamma BCE(z_c, [c == y]) with
      p_t,c = p_c if c == y else 1 - p_c (the paper's CB-Focal, no alpha).

    A soft target t (mixup/cutmix ``gt_score``, shape (N, C)) gives the
    expected loss sum_k t_k * L(z, k), linear in t, so a mix of two labels is
    the same mix of their losses (for softmax: -sum_k t_k w_k log softmax_k).
    The per-sample losses are reduced like MMPretrain losses (``weight``,
    ``avg_factor``: the head passes N, so 'mean' is sum over samples / N,
    as the paper's sum over elements / number of positive labels).

    Args:
        beta (float): in [0, 1); 0 gives no re-weighting, 1 - beta -> 0 gives
            inverse-frequency weights. Default 0.9999, the paper's CIFAR-LT
            choice (with 0.999 also reported there).
        gamma (float): focal focusing parameter, only for ``'focal'``.
            Default 1.0, the paper's CIFAR-LT CB-Focal choice.
        loss_type (str): 'softmax', 'focal' or 'sigmoid'. Default 'softmax'.
        class_counts (Sequence[int], optional): training samples per class;
            usually left None and set by ``ClassCountsHook`` through
            :meth:`set_class_counts` before training.
        reduction (str): 'none', 'mean' or 'sum'. Default 'mean'.
        loss_weight (float): multiplier of the loss. Default 1.0.
    """
    COUNTS_TERM = 'class_weight'

    def __init__(self,
                 beta: float = 0.9999,
                 gamma: float = 1.0,
                 loss_type: str = 'softmax',
                 class_counts: Optional[Sequence[int]] = None,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0):
        super().__init__(reduction, loss_weight)
        if loss_type not in LOSS_TYPES:
            raise ValueError(f'loss_type must be one of {LOSS_TYPES}, got '
                             f'{loss_type!r}.')
        if not 0 <= beta < 1:
            raise ValueError(f'beta must lie in [0, 1), got {beta}.')
        self.beta = beta
        self.gamma = gamma
        self.loss_type = loss_type
        if class_counts is not None:
            self.set_class_counts(class_counts)

    def set_class_counts(self, counts: Sequence[int]) -> None:
        """w_c = (1 - beta) / (1 - beta^{n_c}), normalised to sum to C."""
        counts = check_class_counts(counts)
        weight = (1 - self.beta) / (1 - self.beta**counts)
        self.class_weight = weight * counts.numel() / weight.sum()

    def per_sample(self, z: torch.Tensor,
                   target: torch.Tensor) -> torch.Tensor:
        class_weight = self.class_weight.to(z)
        if self.loss_type == 'softmax':
            return -(target * class_weight * F.log_softmax(z, -1)).sum(-1)
        gamma = self.gamma if self.loss_type == 'focal' else 0.0
        # -log p = softplus(-z), 1 - p = exp(-softplus(z)).
        pos = torch.exp(-gamma * F.softplus(z)) * F.softplus(-z)
        neg = torch.exp(-gamma * F.softplus(-z)) * F.softplus(z)
        # sum_k t_k w_k [sum_c neg_c + pos_k - neg_k]
        return (target @ class_weight) * neg.sum(-1) + (
            target * class_weight * (pos - neg)).sum(-1)
