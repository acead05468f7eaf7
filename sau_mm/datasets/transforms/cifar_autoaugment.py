"""CIFAR10AutoAugment: AutoAugment with the CIFAR-10 policy (SAU view v2)."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS
from PIL import Image
from torchvision.transforms import AutoAugment, AutoAugmentPolicy


@TRANSFORMS.register_module()
class CIFAR10AutoAugment(BaseTransform):
    """AutoAugment (Cubuk et al. 2019), CIFAR-10 policy, fill gray
    (128, 128, 128): torchvision's implementation on a PIL image, so the
    randomness comes from torch's global RNG. ``results['img']``: HxWx3
    uint8 RGB, replaced by an array of the same shape and dtype."""

    def __init__(self, fill=(128, 128, 128)):
        self.augment = AutoAugment(AutoAugmentPolicy.CIFAR10,
                                   fill=list(fill))

    def transform(self, results: dict) -> dict:
        img = Image.fromarray(results['img'])
        results['img'] = np.asarray(self.augment(img), dtype=np.uint8).copy()
        return results
