"""MixUp and CutMix of a batch with a partner batch (SAU's synthetic-unaware
branch). Randomness comes from a ``numpy.random.Generator`` when one is
given, else from NumPy's global RNG (seeded by MMEngine's ``randomness``)."""
from typing import Optional, Tuple

import numpy as np
import torch


def sample_lambda(alpha: float = 1.0,
                  generator: Optional[np.random.Generator] = None) -> float:
    """lam ~ Beta(alpha, alpha)."""
    if alpha <= 0:
        raise ValueError(f'alpha must be > 0, got {alpha}.')
    rng = np.random if generator is None else generator
    return float(rng.beta(alpha, alpha))


CUTMIX_LABELS = ('drawn', 'area')


def cutmix_box(h: int, w: int, lam: float,
               generator: Optional[np.random.Generator] = None
               ) -> Tuple[int, int, int, int]:
    """The authors' CutMix box (Eq. 6, docs/method.md#cutmix-eq-5-and-6):
    centre (cx, cy) uniform real in [0, W) x [0, H), sides W * sqrt(1 - lam)
    and H * sqrt(1 - lam), edges clipped to the image, then rounded (half to
    even). Returns the slices
    ``(y1, y2, x1, x2)`` of ``[y1:y2, x1:x2]``; its area is (1 - lam) * W * H
    up to rounding unless the box is clipped at a border."""
    rng = np.random if generator is None else generator
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    half_w, half_h = w * np.sqrt(1.0 - lam) / 2, h * np.sqrt(1.0 - lam) / 2
    x1, x2 = np.round(np.clip([cx - half_w, cx + half_w], 0, w))
    y1, y2 = np.round(np.clip([cy - half_h, cy + half_h], 0, h))
    return int(y1), int(y2), int(x1), int(x2)


def mixup(x: torch.Tensor, y_onehot: torch.Tensor, x2: torch.Tensor,
          y2_onehot: torch.Tensor,
          lam: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """x~ = lam * x + (1 - lam) * x2, y~ = lam * y + (1 - lam) * y2."""
    return (lam * x + (1 - lam) * x2,
            lam * y_onehot + (1 - lam) * y2_onehot)


def cutmix(x: torch.Tensor, y_onehot: torch.Tensor, x2: torch.Tensor,
           y2_onehot: torch.Tensor, lam: float, label: str = 'drawn',
           generator: Optional[np.random.Generator] = None
           ) -> Tuple[torch.Tensor, torch.Tensor, float]:
    """Paste one :func:`cutmix_box` of x2 into x (the same box for the whole
    (N, C, H, W) batch); y~ = l * y + (1 - l) * y2 with

    - ``label='drawn'``: l = lam, the drawn ratio (authors' code);
    - ``label='area'``: l = 1 - box area / (W * H) after clipping, the share
      of x actually kept (timm / MMPretrain convention).

    Returns ``(x~, y~, l)``.
    """
    if label not in CUTMIX_LABELS:
        raise ValueError(f'label must be one of {CUTMIX_LABELS}, got '
                         f'{label!r}.')
    h, w = x.size(-2), x.size(-1)
    y1, y2, x1, x2_ = cutmix_box(h, w, lam, generator)
    mixed = x.clone()
    mixed[..., y1:y2, x1:x2_] = x2[..., y1:y2, x1:x2_]
    if label == 'area':
        lam = 1.0 - (y2 - y1) * (x2_ - x1) / (h * w)
    return mixed, lam * y_onehot + (1 - lam) * y2_onehot, lam
