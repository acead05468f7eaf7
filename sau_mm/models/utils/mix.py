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


def cutmix_box(h: int, w: int, lam: float,
               generator: Optional[np.random.Generator] = None
               ) -> Tuple[Tuple[int, int, int, int], float]:
    """CutMix box (Yun et al. 2019): side ratio sqrt(1 - lam), so the area is
    (1 - lam) * W * H before clipping (up to whole pixels: half-sides
    int(H * sqrt(1 - lam)) // 2, as in the CutMix reference code); centre
    uniform over the pixels; clipped to the image.

    Returns ``((y1, y2, x1, x2), lam_eff)`` with the box as slices
    ``[y1:y2, x1:x2]`` and lam_eff = 1 - box_area / (W * H) after clipping:
    the share of the first image, to be used for the labels.
    """
    randint = np.random.randint if generator is None else generator.integers
    cut_rat = np.sqrt(1.0 - lam)
    cut_h, cut_w = int(h * cut_rat), int(w * cut_rat)
    cy, cx = int(randint(h)), int(randint(w))
    y1, y2 = np.clip([cy - cut_h // 2, cy + cut_h // 2], 0, h)
    x1, x2 = np.clip([cx - cut_w // 2, cx + cut_w // 2], 0, w)
    y1, y2, x1, x2 = int(y1), int(y2), int(x1), int(x2)
    lam_eff = 1.0 - (y2 - y1) * (x2 - x1) / (h * w)
    return (y1, y2, x1, x2), lam_eff


def mixup(x: torch.Tensor, y_onehot: torch.Tensor, x2: torch.Tensor,
          y2_onehot: torch.Tensor,
          lam: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """x~ = lam * x + (1 - lam) * x2, y~ = lam * y + (1 - lam) * y2."""
    return (lam * x + (1 - lam) * x2,
            lam * y_onehot + (1 - lam) * y2_onehot)


def cutmix(x: torch.Tensor, y_onehot: torch.Tensor, x2: torch.Tensor,
           y2_onehot: torch.Tensor, lam: float,
           generator: Optional[np.random.Generator] = None
           ) -> Tuple[torch.Tensor, torch.Tensor, float]:
    """Paste one :func:`cutmix_box` of x2 into x (the same box for the whole
    (N, C, H, W) batch); y~ = lam_eff * y + (1 - lam_eff) * y2.

    Returns ``(x~, y~, lam_eff)``.
    """
    (y1, y2, x1, x2_), lam_eff = cutmix_box(x.size(-2), x.size(-1), lam,
                                            generator)
    mixed = x.clone()
    mixed[..., y1:y2, x1:x2_] = x2[..., y1:y2, x1:x2_]
    return mixed, lam_eff * y_onehot + (1 - lam_eff) * y2_onehot, lam_eff
