"""CIFAR10AutoAugment: AutoAugment with the CIFAR-10 policy (SAU view v2),
as the widely copied "CIFAR10Policy" re-implementation the authors use."""
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS
from PIL import Image, ImageEnhance, ImageOps

AFFINE = Image.Transform.AFFINE


def shear_x(img, m, fill):
    """Input x = x + m * y: PIL affine (1, m, 0, 0, 1, 0), bicubic."""
    return img.transform(img.size, AFFINE, (1, m, 0, 0, 1, 0),
                         Image.Resampling.BICUBIC, fillcolor=fill)


def shear_y(img, m, fill):
    """Input y = m * x + y: PIL affine (1, 0, 0, m, 1, 0), bicubic."""
    return img.transform(img.size, AFFINE, (1, 0, 0, m, 1, 0),
                         Image.Resampling.BICUBIC, fillcolor=fill)


def translate_x(img, m, fill):
    """Input x = x + m * W (a shift by m * W pixels), nearest."""
    return img.transform(img.size, AFFINE, (1, 0, m * img.size[0], 0, 1, 0),
                         fillcolor=fill)


def translate_y(img, m, fill):
    """Input y = y + m * H (a shift by m * H pixels), nearest."""
    return img.transform(img.size, AFFINE, (1, 0, 0, 0, 1, m * img.size[1]),
                         fillcolor=fill)


def rotate(img, m, fill):
    """Rotate by m degrees counter-clockwise (RGBA, nearest), composited
    over a ``fill`` background: the uncovered corners become ``fill``."""
    rot = img.convert('RGBA').rotate(m)
    background = Image.new('RGBA', rot.size, tuple(fill) + (128, ))
    return Image.composite(rot, background, rot).convert(img.mode)


def color(img, m, fill):
    """Saturation enhance, factor 1 + m."""
    return ImageEnhance.Color(img).enhance(1 + m)


def contrast(img, m, fill):
    """Contrast enhance, factor 1 + m."""
    return ImageEnhance.Contrast(img).enhance(1 + m)


def sharpness(img, m, fill):
    """Sharpness enhance, factor 1 + m."""
    return ImageEnhance.Sharpness(img).enhance(1 + m)


def brightness(img, m, fill):
    """Brightness enhance, factor 1 + m."""
    return ImageEnhance.Brightness(img).enhance(1 + m)


def posterize(img, m, fill):
    """Keep the m most significant bits of each channel."""
    return ImageOps.posterize(img, m)


def solarize(img, m, fill):
    """Invert (255 - v) every value v >= m."""
    return ImageOps.solarize(img, m)


def autocontrast(img, m, fill):
    """Stretch each channel to the full 0..255 range."""
    return ImageOps.autocontrast(img)


def equalize(img, m, fill):
    """Histogram equalisation of each channel."""
    return ImageOps.equalize(img)


def invert(img, m, fill):
    """255 - v."""
    return ImageOps.invert(img)


def _bins(start, stop):
    """The 10 magnitude bins: linspace(start, stop, 10)."""
    return tuple(np.linspace(start, stop, 10).tolist())


# name: (op(img, signed magnitude, fill), magnitude of each bin, random
# sign in the authors' CIFAR10Policy: every op with a direction but rotate)
OPS = {
    'shearX': (shear_x, _bins(0, 0.3), True),
    'shearY': (shear_y, _bins(0, 0.3), True),
    'translateX': (translate_x, _bins(0, 150 / 331), True),
    'translateY': (translate_y, _bins(0, 150 / 331), True),
    'rotate': (rotate, _bins(0, 30), False),  # counter-clockwise only
    'color': (color, _bins(0, 0.9), True),
    'contrast': (contrast, _bins(0, 0.9), True),
    'sharpness': (sharpness, _bins(0, 0.9), True),
    'brightness': (brightness, _bins(0, 0.9), True),
    'posterize': (posterize, tuple(int(round(b)) for b in _bins(8, 4)),
                  False),
    'solarize': (solarize, _bins(256, 0), False),
    'autocontrast': (autocontrast, (0, ) * 10, False),
    'equalize': (equalize, (0, ) * 10, False),
    'invert': (invert, (0, ) * 10, False),
}


def takes_random_sign(name: str, rotate_random_sign: bool = False) -> bool:
    """Whether op ``name`` is applied at a random sign +/-1: its ``OPS``
    flag, and for rotate ``rotate_random_sign``."""
    return OPS[name][2] or (name == 'rotate' and rotate_random_sign)


# AutoAugment's CIFAR-10 policy (Cubuk et al. 2019): 25 sub-policies
# (p1, op1, bin1, p2, op2, bin2).
CIFAR10_POLICY = (
    (0.1, 'invert', 7, 0.2, 'contrast', 6),
    (0.7, 'rotate', 2, 0.3, 'translateX', 9),
    (0.8, 'sharpness', 1, 0.9, 'sharpness', 3),
    (0.5, 'shearY', 8, 0.7, 'translateY', 9),
    (0.5, 'autocontrast', 8, 0.9, 'equalize', 2),
    (0.2, 'shearY', 7, 0.3, 'posterize', 7),
    (0.4, 'color', 3, 0.6, 'brightness', 7),
    (0.3, 'sharpness', 9, 0.7, 'brightness', 9),
    (0.6, 'equalize', 5, 0.5, 'equalize', 1),
    (0.6, 'contrast', 7, 0.6, 'sharpness', 5),
    (0.7, 'color', 7, 0.5, 'translateX', 8),
    (0.3, 'equalize', 7, 0.4, 'autocontrast', 8),
    (0.4, 'translateY', 3, 0.2, 'sharpness', 6),
    (0.9, 'brightness', 6, 0.2, 'color', 8),
    (0.5, 'solarize', 2, 0.0, 'invert', 3),
    (0.2, 'equalize', 0, 0.6, 'autocontrast', 0),
    (0.2, 'equalize', 8, 0.6, 'equalize', 4),
    (0.9, 'color', 9, 0.6, 'equalize', 6),
    (0.8, 'autocontrast', 4, 0.2, 'solarize', 8),
    (0.1, 'brightness', 3, 0.7, 'color', 0),
    (0.4, 'solarize', 5, 0.9, 'autocontrast', 3),
    (0.9, 'translateY', 9, 0.7, 'translateY', 9),
    (0.9, 'autocontrast', 2, 0.8, 'solarize', 3),
    (0.8, 'equalize', 8, 0.1, 'invert', 3),
    (0.7, 'translateY', 9, 0.9, 'autocontrast', 1),
)


@TRANSFORMS.register_module()
class CIFAR10AutoAugment(BaseTransform):
    """AutoAugment (Cubuk et al. 2019), CIFAR-10 policy, as the authors'
    CIFAR10Policy (docs/method.md#views-and-normalisation): a sub-policy of
    ``CIFAR10_POLICY`` drawn uniformly, then each of its two ops applied
    with its probability, at the magnitude of its bin in ``OPS``, times a
    random sign +/-1 for shear, translate and the enhance ops. Rotate turns
    counter-clockwise by its magnitude (PIL ``Image.rotate(m)``, m > 0), no
    sign drawn, as the authors' code; ``rotate_random_sign=True`` draws a
    sign for it too (as DeepVoltaire's original ops.py). Geometric ops fill
    with ``fill`` (gray (128, 128, 128)).

    Differences from the authors' code: the draws come from NumPy's global
    RNG (seeded per worker by MMEngine, saved by RNGStateHook), not Python's
    ``random``, in the same order; rotate's background is ``fill`` (theirs
    is always gray 128, the same for the default). ``results['img']``: HxWx3
    uint8 RGB, replaced by an array of the same shape and dtype."""

    def __init__(self, fill: Sequence[int] = (128, 128, 128),
                 rotate_random_sign: bool = False):
        self.fill = tuple(int(c) for c in fill)
        self.rotate_random_sign = rotate_random_sign

    def apply(self, img: Image.Image, name: str, m: float) -> Image.Image:
        """Op ``name`` at signed magnitude ``m``."""
        return OPS[name][0](img, m, self.fill)

    def transform(self, results: dict) -> dict:
        img = Image.fromarray(results['img'])
        p1, op1, bin1, p2, op2, bin2 = CIFAR10_POLICY[np.random.randint(
            len(CIFAR10_POLICY))]
        for p, name, bin_ in ((p1, op1, bin1), (p2, op2, bin2)):
            if np.random.rand() < p:
                m = OPS[name][1][bin_]
                if takes_random_sign(name, self.rotate_random_sign):
                    m *= int(np.random.choice((-1, 1)))
                img = self.apply(img, name, m)
        results['img'] = np.asarray(img, dtype=np.uint8).copy()
        return results
