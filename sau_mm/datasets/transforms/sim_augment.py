"""SimAugment: SAU's view v3 (SimCLR-style augmentation)."""
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS
from PIL import Image
from torchvision import transforms as T


@TRANSFORMS.register_module()
class SimAugment(BaseTransform):
    """RandomResizedCrop(size, scale) + HorizontalFlip(0.5) + ColorJitter
    (brightness, contrast, saturation, hue) with p ``jitter_p`` +
    RandomGrayscale(``gray_p``) + GaussianBlur(sigma in ``blur_sigma``) with
    p ``blur_p``: torchvision on a PIL image, randomness from torch's global
    RNG. Blur kernel: 2 * int(0.05 * size) + 1, at least 3 (odd, about 10% of
    the image side: 3 at 32 px, 23 at 224 px). ``results['img']``: HxWx3
    uint8 RGB, replaced by a size x size x 3 uint8 array."""

    def __init__(self,
                 size: int = 32,
                 scale: Sequence[float] = (0.2, 1.0),
                 jitter: Sequence[float] = (0.4, 0.4, 0.4, 0.1),
                 jitter_p: float = 0.8,
                 gray_p: float = 0.2,
                 blur_sigma: Sequence[float] = (0.1, 2.0),
                 blur_p: float = 0.5):
        kernel = max(3, 2 * int(0.05 * size) + 1)
        self.augment = T.Compose([
            T.RandomResizedCrop(size, scale=tuple(scale)),
            T.RandomHorizontalFlip(),
            T.RandomApply([T.ColorJitter(*jitter)], p=jitter_p),
            T.RandomGrayscale(p=gray_p),
            T.RandomApply([T.GaussianBlur(kernel, sigma=tuple(blur_sigma))],
                          p=blur_p),
        ])

    def transform(self, results: dict) -> dict:
        img = np.asarray(self.augment(Image.fromarray(results['img'])),
                         dtype=np.uint8).copy()
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        return results
