"""ClassPrototypes: SAU's per-view class prototypes (paper Eq. 10,
docs/method.md#prototypes-eq-10)."""
from typing import Iterable, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_reduce


class ClassPrototypes(nn.Module):
    """Per contrastive view v and class c, over the REAL long-tailed training
    images (every rank passes its share; the sums are all-reduced):

        p_c^v = mean_{i real, y_i = c} z_i^v               (``normalize=False``)
        p_c^v = normalize(mean_{i real, y_i = c} z_i^v)    (``normalize=True``)

    z = normalize(phi(F(x))) is a unit vector, so the plain mean, the
    authors' code (Trainer.get_prototypes), has norm < 1 and is the default;
    the L2-normalised mean is the paper's Eq. 10.

    ``value`` (V, C, D) is only valid after :meth:`compute`; :meth:`get`
    refuses to hand out prototypes that were never computed.
    """

    def __init__(self, num_views: int, num_classes: int, dim: int,
                 normalize: bool = False):
        super().__init__()
        self.normalize = normalize
        self.register_buffer('value', torch.zeros(num_views, num_classes, dim))
        self.register_buffer('computed', torch.zeros((), dtype=torch.bool))

    @torch.no_grad()
    def compute(self, embeddings: Iterable[Tuple[torch.Tensor, torch.Tensor]]
                ) -> None:
        """``embeddings``: (z (V, N, D), labels (N,)) batches of real images."""
        num_views, num_classes, _ = self.value.shape
        sums = torch.zeros_like(self.value)
        counts = torch.zeros(num_classes, device=self.value.device)
        for z, labels in embeddings:
            if z.dim() != 3 or z.size(0) != num_views:
                raise ValueError(f'Expected embeddings of shape ({num_views}, '
                                 f'N, D), got {tuple(z.shape)}.')
            labels = labels.to(sums.device)
            for v in range(num_views):
                sums[v].index_add_(0, labels, z[v].to(sums))
            counts += torch.bincount(labels, minlength=num_classes)
        all_reduce(sums)
        all_reduce(counts)
        if (counts == 0).any():
            missing = torch.nonzero(counts == 0).flatten().tolist()
            raise ValueError(f'Classes {missing} have no real training image, '
                             'so they have no prototype.')
        means = sums / counts[None, :, None]
        self.value.copy_(F.normalize(means, dim=-1) if self.normalize
                         else means)
        self.computed.fill_(True)

    def get(self) -> torch.Tensor:
        """(V, C, D) prototypes; an error if they were never computed."""
        if not bool(self.computed):
            raise RuntimeError(
                'The SAU model uses class prototypes (use_prototypes=True) '
                'but they were never computed: add '
                "dict(type='PrototypeUpdateHook') to custom_hooks (it calls "
                'model.update_prototypes at the start of every epoch), or '
                'set model.use_prototypes=False.')
        return self.value
