"""SupConNoiseLoss: SAU's supervised contrastive loss with class prototypes
and three ways of handling synthetic samples flagged as noise."""
from typing import Optional

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS

NOISE_STRATEGIES = ('drop', 'unique', 'negative_only')


@MODELS.register_module()
class SupConNoiseLoss(nn.Module):
    r"""Supervised contrastive loss (paper Eq. 8, reduced like the authors'
    code: docs/method.md#supervised-contrastive-loss-eq-8). Every view of
    every point is an anchor i; with A(i) all other views in the batch and
    P(i) those of the same label (the point's own other views included):

        l_i = -1/|P(i)| sum_{p in P(i)}
              log( exp(z_i.z_p/tau) / sum_{a in A(i)} exp(z_i.z_a/tau) )

    plain 1/tau (no base-temperature rescaling); the loss is the mean of l_i
    over all anchors, an anchor with no positive giving 0 but still counted.
    Prototype c (``prototypes[:, c]``) is one extra point labelled c whose V
    views are the V view-prototypes.

    Noisy samples (``noise_mask``), by ``noise_strategy``:

    - ``'drop'`` (L1): removed from the batch entirely;
    - ``'unique'`` (L2, default): each gets its own label -1, -2, ..., so its
      only positives are its own other views; it stays a negative for all;
    - ``'negative_only'`` (L3): never an anchor nor a positive, only in the
      denominators; the sum of l_i is divided by the number of non-noise
      anchors (prototype anchors included).

    A batch left without anchors (all noise under 'drop' or 'negative_only'
    and no prototypes, or fewer than two views in total) gives a loss of 0
    that still carries a (zero) gradient to ``features``.

    Args:
        temperature (float): tau. Default 0.1.
        noise_strategy (str): 'drop', 'unique' or 'negative_only'.
    """

    def __init__(self, temperature: float = 0.1,
                 noise_strategy: str = 'unique'):
        super().__init__()
        if noise_strategy not in NOISE_STRATEGIES:
            raise ValueError(f'noise_strategy must be one of '
                             f'{NOISE_STRATEGIES}, got {noise_strategy!r}.')
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}.')
        self.temperature = temperature
        self.noise_strategy = noise_strategy

    def forward(self,
                features: torch.Tensor,
                labels: torch.Tensor,
                noise_mask: Optional[torch.Tensor] = None,
                prototypes: Optional[torch.Tensor] = None) -> torch.Tensor:
        """features (N, V, D) L2-normalised, labels (N,) class indices,
        noise_mask (N,) bool or None, prototypes (V, C, D) or None."""
        if features.dim() != 3:
            raise ValueError('features must be (N, V, D), got shape '
                             f'{tuple(features.shape)}.')
        n, num_views, _ = features.shape
        labels = labels.view(-1).long()
        noise = (torch.zeros(n, dtype=torch.bool, device=features.device)
                 if noise_mask is None else noise_mask.view(-1).bool())
        if labels.numel() != n or noise.numel() != n:
            raise ValueError('labels and noise_mask need one entry per '
                             'sample.')
        zero = features.sum() * 0.0

        feats = features.to(torch.promote_types(features.dtype,
                                                torch.float32))
        valid = torch.ones(n, dtype=torch.bool, device=features.device)
        if self.noise_strategy == 'drop':
            feats, labels, valid = feats[~noise], labels[~noise], valid[~noise]
        elif self.noise_strategy == 'unique':
            labels = labels.clone()
            labels[noise] = -torch.arange(
                1, int(noise.sum()) + 1, device=labels.device)
        else:
            valid = ~noise
        if prototypes is not None:
            if prototypes.dim() != 3 or prototypes.size(0) != num_views:
                raise ValueError(f'prototypes must be ({num_views}, C, D), '
                                 f'got shape {tuple(prototypes.shape)}.')
            num_classes = prototypes.size(1)
            feats = torch.cat([feats, prototypes.float().transpose(0, 1)])
            labels = torch.cat([labels, torch.arange(
                num_classes, device=labels.device)])
            valid = torch.cat([valid, valid.new_ones(num_classes)])

        # View-major flattening: row v * P + j is view v of point j.
        z = feats.transpose(0, 1).reshape(-1, feats.size(-1))
        labels = labels.repeat(num_views)
        valid = valid.repeat(num_views)
        num_anchors = int(valid.sum())
        if z.size(0) < 2 or num_anchors == 0:
            return zero

        logits = z @ z.t() / self.temperature
        self_mask = torch.eye(z.size(0), dtype=torch.bool, device=z.device)
        log_denom = torch.logsumexp(logits.masked_fill(self_mask, -torch.inf),
                                    dim=1, keepdim=True)
        log_prob = logits - log_denom
        pos_mask = ((labels[:, None] == labels[None, :]) & ~self_mask
                    & valid[None, :])
        num_pos = pos_mask.sum(1)
        anchor_loss = -torch.where(pos_mask, log_prob, 0.0).sum(1) \
            / num_pos.clamp(min=1)
        anchor_loss = torch.where(valid & (num_pos > 0), anchor_loss, 0.0)
        return (anchor_loss.sum() / num_anchors).to(features.dtype) + zero
