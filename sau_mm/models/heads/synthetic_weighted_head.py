"""SyntheticWeightedClsHead: a linear head whose loss down-weights synthetic
samples (DiffuLT)."""
from typing import List

import torch
from mmpretrain.evaluation import Accuracy
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..losses.utils import (is_synthetic_flags, synthetic_weights,
                            weighted_mean_factor)


@MODELS.register_module()
class SyntheticWeightedClsHead(LinearClsHead):
    """LinearClsHead with per-sample weights w_i in its loss:

    ``loss = sum_i w_i l_i / sum_i w_i``, w_i = ``synthetic_weight`` if the
    data sample's ``is_synthetic`` (set by LongTailSyntheticDataset; missing
    is an error) else 1, l_i the loss module's per-sample loss (hard labels,
    or the ``gt_score`` soft targets of batch augments; with those the weight
    follows the sample at position i). Normalising by the weight sum keeps
    the loss scale of a real-only batch; ``synthetic_weight=1`` is the plain
    mean. SAU's classification branch normalises the same way. The loss
    module must accept ``weight`` and ``avg_factor`` (MMPretrain's
    CrossEntropyLoss does).
    """

    def __init__(self, *args, synthetic_weight: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        if synthetic_weight < 0:
            raise ValueError(
                f'synthetic_weight must be >= 0, got {synthetic_weight}.')
        self.synthetic_weight = synthetic_weight

    def _get_loss(self, cls_score: torch.Tensor,
                  data_samples: List[DataSample], **kwargs) -> dict:
        if 'gt_score' in data_samples[0]:
            target = torch.stack([s.gt_score for s in data_samples])
        else:
            target = torch.cat([s.gt_label for s in data_samples])
        flags = torch.tensor(is_synthetic_flags(data_samples),
                             device=cls_score.device)
        weight = synthetic_weights(flags, self.synthetic_weight)
        losses = dict(loss=self.loss_module(
            cls_score, target, weight=weight,
            avg_factor=weighted_mean_factor(weight), **kwargs))
        if self.cal_acc:
            if target.ndim != 1:
                raise ValueError('cal_acc needs hard labels; it is '
                                 'meaningless with batch augments.')
            acc = Accuracy.calculate(cls_score, target, topk=self.topk)
            losses.update(
                {f'accuracy_top-{k}': a for k, a in zip(self.topk, acc)})
        return losses
