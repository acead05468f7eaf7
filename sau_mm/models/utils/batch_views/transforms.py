"""Per-sample random augmentations of a whole batch, on any device: SAU's
three views (docs/method.md#views-and-normalisation) as batch ops with the
same distributions as the CPU transforms (MMPretrain RandomCrop/RandomFlip,
CIFAR10AutoAugment, SAUCutout, SimAugment).

Every op is split in two:

* ``draw_params(n, generator)``: all random draws for ``n`` samples, from
  the ``torch.Generator`` passed in, on that generator's device, in a fixed
  order, so a seeded generator (and its saved state) reproduces a batch
  exactly. Returns a dict of tensors (a list of them for
  :class:`BatchCompose`).
* ``apply(images, params)``: deterministic; tests pass fixed parameters.

``images``: (N, 3, H, W) uint8, or float holding levels on the 0..255 scale
(rounded to the nearest level, as the CPU path holds uint8); the result has
the input's dtype and device. The pixel arithmetic is in
:mod:`.functional` (PIL-exact; which parts are kornia is said there). Ops
that treat samples differently (AutoAugment's 14 ops, ColorJitter's random
order, the blur) group the samples on the host after one small transfer of
their parameters and run each op once per group; on CUDA that is a few
host syncs per batch (the parameter transfer, the blur's largest radius,
the shear fast-path check), no per-sample kernels.

The draws cannot follow the CPU path's random streams (NumPy's and torch's
global RNGs, one image at a time); they follow its distributions.
"""
import math
from typing import Dict, List, Sequence, Union

import torch
from mmpretrain.registry import BATCH_AUGMENTS

from sau_mm.datasets.transforms.cifar_autoaugment import (
    CIFAR10_POLICY, OPS, takes_random_sign)
from . import functional as F

Params = Dict[str, torch.Tensor]

__all__ = [
    'AA_OPS', 'BatchTransform', 'BatchRandomCropFlip',
    'BatchCIFAR10AutoAugment', 'BatchCutout', 'BatchSimAugment',
    'BatchCompose'
]


def _device(generator: torch.Generator) -> torch.device:
    return generator.device if generator is not None else torch.device('cpu')


def _rand(generator, *shape) -> torch.Tensor:
    return torch.rand(*shape, generator=generator, device=_device(generator))


def _randint(generator, high, *shape) -> torch.Tensor:
    return torch.randint(0, int(high), shape, generator=generator,
                         device=_device(generator))


def _to_u8(images: torch.Tensor) -> torch.Tensor:
    if images.dtype == torch.uint8:
        return images
    return images.round().clamp(0, 255).to(torch.uint8)


def _from_u8(out: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return out if like.dtype == torch.uint8 else out.to(like.dtype)


def _groups(keys: torch.Tensor, mask: torch.Tensor):
    """{key: LongTensor of sample indices} over samples with ``mask``
    (host tensors)."""
    out = {}
    for k in keys[mask].unique().tolist():
        out[k] = torch.nonzero(mask & (keys == k)).flatten()
    return out


class BatchTransform:
    """Base: ``__call__(images, generator)`` draws then applies.

    The ops are registered in MMPretrain's ``BATCH_AUGMENTS`` so configs
    can build them, but they are called as ``op(images, generator)`` (or
    ``apply(images, params)``), not as MMPretrain's Mixup/CutMix
    ``(inputs, data_samples)``: a data preprocessor calls them per view."""

    def draw_params(self, n: int, generator: torch.Generator = None):
        raise NotImplementedError

    def apply(self, images: torch.Tensor, params) -> torch.Tensor:
        u8 = _to_u8(images)
        return _from_u8(self._apply(u8, params), images)

    def _apply(self, images: torch.Tensor, params) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, images: torch.Tensor,
                 generator: torch.Generator = None) -> torch.Tensor:
        return self.apply(images, self.draw_params(len(images), generator))


@BATCH_AUGMENTS.register_module()
class BatchRandomCropFlip(BatchTransform):
    """View v1: MMPretrain ``RandomCrop(crop_size, padding, pad_val=0)`` then
    ``RandomFlip(prob, 'horizontal')``, for images of side ``img_size``.
    Params: ``top``, ``left`` (offsets in the padded image, each uniform in
    0..img_size + 2 * padding - crop_size), ``flip`` (bool, p ``prob``).
    Ours (plain tensor gathers), exact."""

    def __init__(self, crop_size: int = 32, padding: int = 4,
                 prob: float = 0.5, img_size: int = 32, pad_val: int = 0):
        self.crop_size = crop_size
        self.padding = padding
        self.prob = prob
        self.img_size = img_size
        self.pad_val = pad_val

    def draw_params(self, n, generator=None) -> Params:
        span = self.img_size + 2 * self.padding - self.crop_size + 1
        return dict(top=_randint(generator, span, n),
                    left=_randint(generator, span, n),
                    flip=_rand(generator, n) < self.prob)

    def _apply(self, images, params):
        out = F.crop_with_padding(images, params['top'], params['left'],
                                  (self.crop_size, self.crop_size),
                                  self.padding, self.pad_val)
        return F.hflip(out, params['flip'])


@BATCH_AUGMENTS.register_module()
class BatchCutout(BatchTransform):
    """``SAUCutout(n_holes, length, fill)``: params ``cy``, ``cx`` (N,
    n_holes), uniform pixel centres. Ours, exact."""

    def __init__(self, n_holes: int = 1, length: int = 16,
                 img_size: int = 32, fill=0):
        self.n_holes = n_holes
        self.length = length
        self.img_size = img_size
        self.fill = fill

    def draw_params(self, n, generator=None) -> Params:
        cy = _randint(generator, self.img_size, n, self.n_holes)
        cx = _randint(generator, self.img_size, n, self.n_holes)
        return dict(cy=cy, cx=cx)

    def _apply(self, images, params):
        if self.n_holes == 0:
            return images
        return F.cutout(images, params['cy'], params['cx'], self.length,
                        self.fill)


# The 14 AutoAugment ops on a group: fn(images, signed magnitudes (float64
# tensor, one per sample), fill) -> images, as OPS in cifar_autoaugment.py.
def _shear_x(img, m, fill):
    z = torch.zeros_like(m)
    one = torch.ones_like(m)
    return F.affine_bicubic(img, torch.stack([one, m, z, z, one, z], 1),
                            fill)


def _shear_y(img, m, fill):
    z = torch.zeros_like(m)
    one = torch.ones_like(m)
    return F.affine_bicubic(img, torch.stack([one, z, z, m, one, z], 1),
                            fill)


AA_OPS = {
    'shearX': _shear_x,
    'shearY': _shear_y,
    'translateX': lambda img, m, fill: F.translate_nearest(
        img, m * img.shape[-1], torch.zeros_like(m), fill),
    'translateY': lambda img, m, fill: F.translate_nearest(
        img, torch.zeros_like(m), m * img.shape[-2], fill),
    'rotate': lambda img, m, fill: F.rotate_nearest(img, m, fill),
    'color': lambda img, m, fill: F.color(img, 1 + m),
    'contrast': lambda img, m, fill: F.contrast(img, 1 + m),
    'sharpness': lambda img, m, fill: F.sharpness(img, 1 + m),
    'brightness': lambda img, m, fill: F.brightness(img, 1 + m),
    'posterize': lambda img, m, fill: F.posterize(img, m.long()),
    'solarize': lambda img, m, fill: F.solarize(img, m),
    'autocontrast': lambda img, m, fill: F.autocontrast(img),
    'equalize': lambda img, m, fill: F.equalize(img),
    'invert': lambda img, m, fill: F.invert(img),
}
AA_OP_NAMES = tuple(OPS)


@BATCH_AUGMENTS.register_module()
class BatchCIFAR10AutoAugment(BatchTransform):
    """``CIFAR10AutoAugment``: per sample a sub-policy of ``CIFAR10_POLICY``
    (uniform over 25), each of its two ops applied with its probability, at
    its bin's magnitude times a random sign for the signed ops (rotate only
    with ``rotate_random_sign=True``; by default it turns counter-clockwise,
    as the CPU op), fill ``fill`` for the geometric ops. Params: ``policy``
    (N,), ``apply`` (N, 2) bool, ``sign`` (N, 2) +/-1 (drawn for every op;
    used where signed). Applied as 2 x 14 groups (slot, op), each op once
    per group. Every op equals the CPU op: shear (PIL bicubic a=-1), translate and
    rotate (PIL nearest), the enhance ops, autocontrast are ours; posterize,
    solarize, invert, equalize are kornia's (``kornia.enhance``). Kornia's
    own ``AutoAugment(policy='cifar10')`` is not used: it draws one
    sub-policy per batch, from the global RNG, with other magnitude ranges
    (translate +/-0.5, 11 bins), bilinear warps and fill 0."""

    def __init__(self, fill: Sequence[int] = (128, 128, 128),
                 policy=CIFAR10_POLICY, rotate_random_sign: bool = False):
        self.fill = tuple(int(c) for c in fill)
        self.policy = tuple(policy)
        names = AA_OP_NAMES
        self._op = torch.tensor([[names.index(sp[1]), names.index(sp[4])]
                                 for sp in self.policy])
        self._prob = torch.tensor([[sp[0], sp[3]] for sp in self.policy],
                                  dtype=torch.float64)
        self._mag = torch.tensor(
            [[OPS[sp[1]][1][sp[2]], OPS[sp[4]][1][sp[5]]]
             for sp in self.policy], dtype=torch.float64)
        self._signed = torch.tensor(
            [[takes_random_sign(sp[k], rotate_random_sign) for k in (1, 4)]
             for sp in self.policy])

    def draw_params(self, n, generator=None) -> Params:
        dev = _device(generator)
        policy = _randint(generator, len(self.policy), n)
        u = _rand(generator, n, 2)
        sign = torch.where(_rand(generator, n, 2) < 0.5, -1, 1)
        apply = u.double() < self._prob.to(dev)[policy]
        return dict(policy=policy, apply=apply, sign=sign.to(torch.int8))

    def magnitudes(self, params: Params) -> torch.Tensor:
        """(N, 2) signed magnitudes (float64, host) of the drawn ops."""
        policy = params['policy'].cpu()
        sign = params['sign'].cpu().double()
        signed = self._signed[policy]
        return self._mag[policy] * torch.where(signed, sign,
                                               torch.ones_like(sign))

    def _apply(self, images, params):
        policy = params['policy'].cpu()
        apply = params['apply'].cpu().bool()
        mags = self.magnitudes(params)
        ops = self._op[policy]
        out = images.clone()
        dev = images.device
        for slot in range(2):
            for op, idx in _groups(ops[:, slot], apply[:, slot]).items():
                fn = AA_OPS[AA_OP_NAMES[op]]
                didx = idx.to(dev)
                out[didx] = fn(out[didx], mags[idx, slot].to(dev), self.fill)
        return out


@BATCH_AUGMENTS.register_module()
class BatchSimAugment(BatchTransform):
    """``SimAugment`` (view v3): torchvision RandomResizedCrop(size, scale,
    ratio) + RandomHorizontalFlip + RandomApply(ColorJitter(b, c, s, h),
    jitter_p) + RandomGrayscale(gray_p), then PIL GaussianBlur(radius=sigma)
    with p ``blur_p``, sigma ~ U(blur_sigma).

    Params: ``top``, ``left``, ``height``, ``width`` (torchvision's
    get_params: up to 10 tries of area ~ U(scale) * H * W and log-ratio ~
    U(log ratio), w = round(sqrt(area * ratio)), h = round(sqrt(area /
    ratio)), the first that fits, offsets uniform; else the central crop),
    ``flip``, ``jitter`` (bool, p jitter_p), ``order`` (N, 4) a uniform
    random permutation of (brightness, contrast, saturation, hue),
    ``factors`` (N, 4) (U(1 -/+ b), U(1 -/+ c), U(1 -/+ s), U(-h, h)),
    ``gray`` (p gray_p), ``blur`` (p blur_p), ``sigma``.

    All ours (kornia's RandomResizedCrop/ColorJitter/RandomGaussianBlur use
    float bilinear, float HSV and a true Gaussian): the resize is PIL's
    fixed-point antialiased bilinear, the jitter PIL's ImageEnhance and
    uint8 HSV hue shift, the blur PIL's box passes; all exact."""

    def __init__(self, size: int = 32, scale=(0.2, 1.0),
                 ratio=(3.0 / 4.0, 4.0 / 3.0), jitter=(0.4, 0.4, 0.4, 0.1),
                 jitter_p: float = 0.8, gray_p: float = 0.2,
                 blur_sigma=(0.1, 2.0), blur_p: float = 0.5,
                 img_size: int = 32):
        self.size = size
        self.scale = tuple(float(s) for s in scale)
        self.ratio = tuple(float(r) for r in ratio)
        b, c, s, h = (float(j) for j in jitter)
        self.ranges = ((max(0.0, 1 - b), 1 + b), (max(0.0, 1 - c), 1 + c),
                       (max(0.0, 1 - s), 1 + s), (-h, h))
        self.jitter_p = jitter_p
        self.gray_p = gray_p
        self.blur_sigma = tuple(float(s) for s in blur_sigma)
        self.blur_p = blur_p
        self.img_size = img_size

    def crop_params(self, n, generator=None, tries: int = 10) -> Params:
        """torchvision ``RandomResizedCrop.get_params`` for ``n`` images of
        img_size x img_size, vectorised over samples and tries."""
        height = width = self.img_size
        area = float(height * width)
        lo, hi = self.scale
        log_lo, log_hi = math.log(self.ratio[0]), math.log(self.ratio[1])
        target = area * (lo + (hi - lo) * _rand(generator, n, tries)).double()
        aspect = torch.exp(log_lo + (log_hi - log_lo) *
                           _rand(generator, n, tries)).double()
        w = torch.round(torch.sqrt(target * aspect)).long()
        h = torch.round(torch.sqrt(target / aspect)).long()
        ok = (w > 0) & (w <= width) & (h > 0) & (h <= height)
        first = torch.where(ok.any(1), ok.long().argmax(1),
                            torch.zeros_like(ok[:, 0], dtype=torch.long))
        w = w.gather(1, first[:, None]).squeeze(1)
        h = h.gather(1, first[:, None]).squeeze(1)
        ui, uj = _rand(generator, n), _rand(generator, n)
        i = torch.floor(ui.double() * (height - h + 1)).long()
        j = torch.floor(uj.double() * (width - w + 1)).long()
        # fallback: central crop (the image is square, its ratio 1 lies in
        # ``ratio`` for the default, so the whole image)
        in_ratio = width / height
        if in_ratio < min(self.ratio):
            fw, fh = width, int(round(width / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            fw, fh = int(round(height * max(self.ratio))), height
        else:
            fw, fh = width, height
        fallback = ~ok.any(1)
        h = torch.where(fallback, torch.full_like(h, fh), h)
        w = torch.where(fallback, torch.full_like(w, fw), w)
        i = torch.where(fallback, torch.full_like(i, (height - fh) // 2), i)
        j = torch.where(fallback, torch.full_like(j, (width - fw) // 2), j)
        return dict(top=i, left=j, height=h, width=w)

    def draw_params(self, n, generator=None) -> Params:
        params = self.crop_params(n, generator)
        params['flip'] = _rand(generator, n) < 0.5
        params['jitter'] = _rand(generator, n) < self.jitter_p
        params['order'] = _rand(generator, n, 4).argsort(1)
        u = _rand(generator, n, 4)
        lo = torch.tensor([r[0] for r in self.ranges], device=u.device)
        hi = torch.tensor([r[1] for r in self.ranges], device=u.device)
        params['factors'] = lo + (hi - lo) * u
        params['gray'] = _rand(generator, n) < self.gray_p
        params['blur'] = _rand(generator, n) < self.blur_p
        s0, s1 = self.blur_sigma
        params['sigma'] = s0 + (s1 - s0) * _rand(generator, n)
        return params

    _JITTER = (F.brightness, F.contrast, F.color, F.adjust_hue)

    def _apply(self, images, params):
        dev = images.device
        out = F.resized_crop_bilinear(images, params['top'], params['left'],
                                      params['height'], params['width'],
                                      (self.size, self.size))
        out = F.hflip(out, params['flip'])
        host = {k: params[k].cpu() for k in ('jitter', 'order', 'gray',
                                             'blur')}
        factors = params['factors'].to(dev)
        for step in range(4):
            groups = _groups(host['order'][:, step], host['jitter'].bool())
            for fn_id, idx in groups.items():
                didx = idx.to(dev)
                out[didx] = self._JITTER[fn_id](out[didx],
                                                factors[didx, fn_id])
        gray = torch.nonzero(host['gray'].bool()).flatten().to(dev)
        if len(gray):
            out[gray] = F.grayscale(out[gray])
        blur = torch.nonzero(host['blur'].bool()).flatten().to(dev)
        if len(blur):
            out[blur] = F.gaussian_blur_pil(out[blur],
                                            params['sigma'].to(dev)[blur])
        return out


@BATCH_AUGMENTS.register_module()
class BatchCompose(BatchTransform):
    """Ops in sequence; params: one entry per op, drawn in order."""

    def __init__(self, transforms: Sequence[Union[BatchTransform, dict]]):
        self.transforms = [
            BATCH_AUGMENTS.build(t) if isinstance(t, dict) else t
            for t in transforms
        ]

    def draw_params(self, n, generator=None) -> List[Params]:
        return [t.draw_params(n, generator) for t in self.transforms]

    def _apply(self, images, params):
        for t, p in zip(self.transforms, params):
            images = t._apply(images, p)
        return images

