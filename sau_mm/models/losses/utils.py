"""Helpers shared by this toolkit's losses and heads: the class-counts
contract of the re-balancing losses (counts set by ``ClassCountsHook``), soft
targets, and the per-sample weights of synthetic samples."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.structures import DataSample


def check_class_counts(counts: Sequence[int]) -> torch.Tensor:
    """Per-class training counts as a float64 tensor; every class needs at
    least one sample (its re-balancing term is infinite otherwise)."""
    counts = torch.as_tensor(counts, dtype=torch.float64)
    if counts.dim() != 1 or counts.numel() == 0:
        raise ValueError('class_counts must be a non-empty sequence with one '
                         f'count per class, got shape {tuple(counts.shape)}.')
    if (counts < 1).any():
        empty = torch.nonzero(counts < 1).flatten().tolist()
        raise ValueError(
            'Every class needs at least one training sample for a '
            f're-balancing loss; classes {empty} have none.')
    return counts


def class_counts_missing(loss_name: str) -> RuntimeError:
    return RuntimeError(
        f'{loss_name} needs the per-class training counts before its first '
        "forward: add dict(type='ClassCountsHook') to custom_hooks in the "
        'config (it calls set_class_counts before training), or pass '
        'class_counts=[...] when building the loss.')


def check_num_classes(counts: torch.Tensor, cls_score: torch.Tensor,
                      loss_name: str) -> None:
    if counts.numel() != cls_score.size(-1):
        raise ValueError(
            f'{loss_name} has counts for {counts.numel()} classes but the '
            f'classifier predicts {cls_score.size(-1)}.')


def training_log_prior(counts: Sequence[int]) -> torch.Tensor:
    """log pi_c = log(n_c / sum_k n_k), the log of the training prior."""
    counts = check_class_counts(counts)
    return torch.log(counts / counts.sum())


class ClassCountsLoss(nn.Module):
    """A re-balancing classification loss: MMPretrain's loss interface around
    :meth:`per_sample` (float logits z (N, C), target t (N, C): one-hot, or
    mixup/cutmix's soft one), reduced like MMPretrain losses (per-sample
    ``weight``, ``avg_factor``, ``reduction``) and times ``loss_weight``.

    :meth:`set_class_counts` (``ClassCountsHook`` calls it before training)
    stores the per-class term in the attribute ``COUNTS_TERM`` names; a
    forward before it is an error saying so.
    """
    COUNTS_TERM = 'log_prior'

    def __init__(self, reduction: str = 'mean', loss_weight: float = 1.0):
        super().__init__()
        self.reduction = reduction
        self.loss_weight = loss_weight
        setattr(self, self.COUNTS_TERM, None)

    def set_class_counts(self, counts: Sequence[int]) -> None:
        raise NotImplementedError

    def check_ready(self) -> None:
        """Raise when the loss lacks something besides the counts."""

    def per_sample(self, z: torch.Tensor,
                   target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self,
                cls_score: torch.Tensor,
                label: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        name = type(self).__name__
        term = getattr(self, self.COUNTS_TERM)
        if term is None:
            raise class_counts_missing(name)
        self.check_ready()
        check_num_classes(term, cls_score, name)
        assert reduction_override in (None, 'none', 'mean', 'sum')
        reduction = reduction_override or self.reduction
        z = cls_score.float()
        target = as_soft_target(label, z.size(-1)).to(z.device)
        return self.loss_weight * reduce_per_sample(
            self.per_sample(z, target), weight, reduction, avg_factor)


def as_soft_target(label: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(N,) class indices -> (N, C) one-hot; (N, C) soft targets unchanged."""
    if label.dim() == 2:
        return label.float()
    return F.one_hot(label.long().view(-1), num_classes).float()


def is_synthetic_flags(data_samples: List[DataSample],
                       key: str = 'is_synthetic') -> List[bool]:
    """``data_sample.<key>`` of every sample. LongTailSyntheticDataset sets
    ``is_synthetic`` on every sample it returns (MixPartnerDataset also
    ``partner_is_synthetic``); a sample without it is an error, never a
    silent "real"."""
    missing = [i for i, s in enumerate(data_samples) if key not in s]
    if missing:
        raise KeyError(
            f'Data sample {missing[0]} has no {key!r} field. Models and heads '
            'that treat synthetic samples differently need the training set '
            "to be a LongTailSyntheticDataset (type='LongTailSyntheticDataset'"
            " in train_dataloader.dataset), which sets it on every sample.")
    return [bool(s.get(key)) for s in data_samples]


def synthetic_weights(is_synthetic: torch.Tensor,
                      synthetic_weight: float) -> torch.Tensor:
    """Per-sample weights w_i = ``synthetic_weight`` for synthetic samples,
    1 for real ones (float, on the flags' device)."""
    if synthetic_weight < 0:
        raise ValueError(
            f'synthetic_weight must be >= 0, got {synthetic_weight}.')
    ones = torch.ones(is_synthetic.shape, device=is_synthetic.device)
    return torch.where(is_synthetic.bool(), ones * synthetic_weight, ones)


def weighted_mean_factor(weights: torch.Tensor) -> torch.Tensor:
    """The ``avg_factor`` of a weighted mean, sum_i w_i l_i / sum_i w_i: the
    weight sum (clamped away from 0 so an all-zero-weight batch gives 0, not
    0/0). All weights 1 gives the plain mean. SAU's classification branch and
    SyntheticWeightedClsHead (DiffuLT) both normalise this way."""
    return weights.sum().clamp_min(torch.finfo(weights.dtype).eps)


def soft_target_nll(logits: torch.Tensor,
                    target: torch.Tensor) -> torch.Tensor:
    """Per-sample l_i = -sum_c t_ic log softmax(z_i)_c (t one-hot or soft)."""
    return -(target * F.log_softmax(logits, -1)).sum(-1)


def reduce_per_sample(loss: torch.Tensor, weight, reduction: str,
                      avg_factor) -> torch.Tensor:
    """MMPretrain's reduction of per-sample losses (optional per-sample
    ``weight``, ``avg_factor``), as its own losses do it."""
    if weight is not None:
        weight = weight.float().view(-1)
    return weight_reduce_loss(loss, weight, reduction, avg_factor)
