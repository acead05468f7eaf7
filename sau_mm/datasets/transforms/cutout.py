"""Cutout (DeVries & Taylor 2017) with the authors' zero fill."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS


@TRANSFORMS.register_module(name='SAUCutout')
class Cutout(BaseTransform):
    """Zero ``n_holes`` squares of side ``length``, each centred at a
    uniformly drawn pixel (NumPy's global RNG) and clipped at the borders.

    Registered as ``'SAUCutout'``: MMPretrain's own ``'Cutout'`` (gray fill,
    used by its RandAugment policies) keeps its name. This runs on the HxWx3
    uint8 image before the data preprocessor normalises it, so ``fill=0``
    here is the same as the authors' zero fill after ToTensor (a pixel value
    of 0 either way). ``fill``: a scalar or one value per channel.
    """

    def __init__(self, n_holes: int = 1, length: int = 16, fill=0):
        if n_holes < 0 or length < 0:
            raise ValueError('n_holes and length must be >= 0.')
        self.n_holes = n_holes
        self.length = length
        self.fill = fill

    def transform(self, results: dict) -> dict:
        img = results['img'].copy()
        h, w = img.shape[:2]
        for _ in range(self.n_holes):
            y, x = np.random.randint(h), np.random.randint(w)
            y1, y2 = max(y - self.length // 2, 0), min(y + self.length // 2, h)
            x1, x2 = max(x - self.length // 2, 0), min(x + self.length // 2, w)
            img[y1:y2, x1:x2] = self.fill
        results['img'] = img
        return results
