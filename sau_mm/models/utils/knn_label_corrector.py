"""KNNLabelCorrector: per-batch clean/noise flags for synthetic samples, an
optional bank of recent real features, and per-epoch flag statistics."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.dist import all_gather_object, all_reduce

from .label_correction import knn_clean_mask


class KNNLabelCorrector(nn.Module):
    """Flags synthetic samples as noise with :func:`knn_clean_mask`.

    Neighbour bank per view: the batch's real samples + the class prototypes
    (authors' final code, ``k=1``) and, with ``bank_size > 0``, the projected
    features of the last ``bank_size`` real samples seen in training (a FIFO
    queue per view; the authors' earlier variant used all real features).

    Statistics since the last :meth:`pop_epoch_stats`: synthetic samples seen
    and flagged per class, and the dataset indices of the flagged ones.
    """

    def __init__(self, num_classes: int, k: int = 1, bank_size: int = 0,
                 num_views: int = 2, feat_dim: int = 128):
        super().__init__()
        self.num_classes = num_classes
        self.k = k
        self.bank_size = bank_size
        if bank_size > 0:
            self.register_buffer('bank_feats',
                                 torch.zeros(num_views, bank_size, feat_dim))
            self.register_buffer('bank_labels',
                                 torch.full((bank_size, ), -1, dtype=torch.long))
            self.register_buffer('bank_ptr', torch.zeros((), dtype=torch.long))
        self.register_buffer('seen', torch.zeros(num_classes, dtype=torch.long),
                             persistent=False)
        self.register_buffer('flagged', torch.zeros(num_classes,
                                                    dtype=torch.long),
                             persistent=False)
        self.flagged_indices = []

    @torch.no_grad()
    def forward(self, feats: torch.Tensor, labels: torch.Tensor,
                is_synthetic: torch.Tensor,
                prototypes: Optional[torch.Tensor] = None,
                sample_idx: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Noise mask (N,) for features (N, V, D); updates bank and stats."""
        bank = {}
        if self.bank_size > 0:
            filled = self.bank_labels >= 0
            bank = dict(bank_feats=self.bank_feats[:, filled],
                        bank_labels=self.bank_labels[filled])
        clean = knn_clean_mask(feats.detach(), labels, is_synthetic,
                               prototypes=prototypes, k=self.k, **bank)
        noise = ~clean
        if self.bank_size > 0:
            self._enqueue(feats.detach()[~is_synthetic],
                          labels[~is_synthetic])
        syn = is_synthetic
        self.seen += torch.bincount(labels[syn], minlength=self.num_classes)
        self.flagged += torch.bincount(labels[noise],
                                       minlength=self.num_classes)
        if sample_idx is not None:
            self.flagged_indices.extend(sample_idx[noise].tolist())
        return noise

    def _enqueue(self, feats: torch.Tensor, labels: torch.Tensor) -> None:
        n = min(len(labels), self.bank_size)
        if n == 0:
            return
        feats, labels = feats[-n:], labels[-n:]
        pos = (self.bank_ptr + torch.arange(n, device=labels.device)) \
            % self.bank_size
        self.bank_feats[:, pos] = feats.transpose(0, 1)
        self.bank_labels[pos] = labels
        self.bank_ptr.copy_((self.bank_ptr + n) % self.bank_size)

    def pop_epoch_stats(self) -> dict:
        """Statistics summed over all ranks; resets them."""
        seen, flagged = self.seen.clone(), self.flagged.clone()
        all_reduce(seen)
        all_reduce(flagged)
        indices = sorted(i for part in all_gather_object(
            self.flagged_indices) for i in part)
        self.seen.zero_()
        self.flagged.zero_()
        self.flagged_indices = []
        return dict(seen=seen.tolist(), flagged=flagged.tolist(),
                    flagged_indices=indices)
