"""SyntheticWeightedClsHead: a linear head whose loss down-weights synthetic
samples (DiffuLT)."""
from typing import List

import torch
from mmpretrain.evaluation import Accuracy
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample


@MODELS.register_module()
class SyntheticWeightedClsHead(LinearClsHead):
    """LinearClsHead with per-sample weights w_i in its loss:

    ``loss = sum_i w_i l_i / sum_i w_i``, w_i = ``synthetic_weight`` if
    ``data_sample.get('is_synthetic', False)`` else 1, l_i the loss module's
    per-sample loss (hard labels, or the ``gt_score`` soft targets of batch
    augments; with those the weight follows the sample at position i).
    Normalising by the weight sum keeps the loss scale of a real-only batch;
    ``synthetic_weight=1`` is the plain mean. The loss module must accept
    ``weight`` and ``avg_factor`` (MMPretrain's CrossEntropyLoss does).
    """

    def __init__(self, *args, synthetic_weight: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        if synthetic_weight < 0:
            raise ValueError(
                f'synthetic_weight must be >= 0, got {synthetic_weight}.')
        self.synthetic_weight = synthetic_weight

    def sample_weights(self, data_samples: List[DataSample],
                       like: torch.Tensor) -> torch.Tensor:
        """(N,) w_i: ``synthetic_weight`` for synthetic samples, 1 else."""
        return like.new_tensor([
            self.synthetic_weight if bool(s.get('is_synthetic', False))
            else 1.0 for s in data_samples])

    def _get_loss(self, cls_score: torch.Tensor,
                  data_samples: List[DataSample], **kwargs) -> dict:
        if 'gt_score' in data_samples[0]:
            target = torch.stack([s.gt_score for s in data_samples])
        else:
            target = torch.cat([s.gt_label for s in data_samples])
        weight = self.sample_weights(data_samples, cls_score).float()
        # An all-synthetic batch with weight 0 gives loss 0, not 0/0.
        avg_factor = weight.sum().clamp_min(torch.finfo(weight.dtype).eps)
        losses = dict(loss=self.loss_module(
            cls_score, target, weight=weight, avg_factor=avg_factor,
            **kwargs))
        if self.cal_acc:
            if target.ndim != 1:
                raise ValueError('cal_acc needs hard labels; it is '
                                 'meaningless with batch augments.')
            acc = Accuracy.calculate(cls_score, target, topk=self.topk)
            losses.update(
                {f'accuracy_top-{k}': a for k, a in zip(self.topk, acc)})
        return losses
