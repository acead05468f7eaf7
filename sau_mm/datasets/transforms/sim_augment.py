"""SimAugment: SAU's view v3 (SimCLR-style augmentation)."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS
from PIL import Image, ImageFilter
from torchvision import transforms as T


def gaussian_blur(img: Image.Image, sigma: float) -> Image.Image:
    """PIL's ``ImageFilter.GaussianBlur(radius=sigma)``: the support grows
    with sigma (the authors' blur, MoCo/SimCLR style)."""
    return img.filter(ImageFilter.GaussianBlur(radius=sigma))


@TRANSFORMS.register_module()
class SimAugment(BaseTransform):
    """RandomResizedCrop(size, scale) + HorizontalFlip(0.5) + ColorJitter
    (brightness, contrast, saturation, hue) with p ``jitter_p`` +
    RandomGrayscale(``gray_p``) + Gaussian blur with p ``blur_p``, sigma ~
    U(``blur_sigma``), as PIL's ``ImageFilter.GaussianBlur(radius=sigma)``
    (docs/method.md#views-and-normalisation). The first four steps are
    torchvision's on a PIL image;
    every draw, the blur's included, comes from torch's global RNG.
    ``results['img']``: HxWx3 uint8 RGB, replaced by a size x size x 3 uint8
    array."""

    def __init__(self,
                 size: int = 32,
                 scale: Sequence[float] = (0.2, 1.0),
                 jitter: Sequence[float] = (0.4, 0.4, 0.4, 0.1),
                 jitter_p: float = 0.8,
                 gray_p: float = 0.2,
                 blur_sigma: Sequence[float] = (0.1, 2.0),
                 blur_p: float = 0.5):
        self.augment = T.Compose([
            T.RandomResizedCrop(size, scale=tuple(scale)),
            T.RandomHorizontalFlip(),
            T.RandomApply([T.ColorJitter(*jitter)], p=jitter_p),
            T.RandomGrayscale(p=gray_p),
        ])
        self.blur_sigma = tuple(float(s) for s in blur_sigma)
        self.blur_p = blur_p

    def blur_params(self) -> Optional[float]:
        """sigma ~ U(blur_sigma) with probability blur_p, else None."""
        if torch.rand(1).item() >= self.blur_p:
            return None
        return torch.empty(1).uniform_(*self.blur_sigma).item()

    def transform(self, results: dict) -> dict:
        img = self.augment(Image.fromarray(results['img']))
        sigma = self.blur_params()
        if sigma is not None:
            img = gaussian_blur(img, sigma)
        img = np.asarray(img, dtype=np.uint8).copy()
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        return results
