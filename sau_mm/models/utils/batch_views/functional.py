"""Batched image ops on uint8 tensors (N, C, H, W) that reproduce the PIL /
torchvision operations of the CPU views pixel for pixel
(docs/method.md#views-and-normalisation).

Every function takes a uint8 batch and per-sample parameters (a tensor or a
sequence of length N) and returns a new uint8 batch. The arithmetic copies
Pillow 13's C code (its integer and float32/float64 steps, in the same order,
with IEEE divisions: see :func:`_div`), so for the same parameters the result
equals PIL's exactly; tests/test_batch_views.py checks every op on CPU (max
difference 0). Only IEEE basic operations are used, so CUDA is expected to
give the same bits; the CUDA test there checks it where a GPU is present.
Kornia (``kornia.enhance``) is used where it already equals PIL:
:func:`posterize`, :func:`solarize`, :func:`invert` and :func:`equalize`;
everything else here is ours, because kornia's versions differ from PIL's
(float blends without PIL's integer grayscale and truncation, bicubic with
a=-0.75 instead of PIL's a=-1, grid-sample nearest/fill semantics, float
HSV, a true Gaussian instead of PIL's box passes, no antialiased fixed-point
resize).

Call these ops eagerly: under ``torch.compile`` the inductor may fuse a
multiply and an add into one FMA, which can move a value across a rounding
boundary (not measured).
"""
import functools
import math
from typing import Sequence, Union

import kornia
import torch

Params = Union[torch.Tensor, Sequence[float]]

__all__ = [
    'rgb_to_l', 'grayscale', 'blend', 'color', 'contrast', 'brightness',
    'smooth', 'sharpness', 'posterize', 'solarize', 'invert', 'autocontrast',
    'equalize', 'affine_bicubic', 'translate_nearest', 'rotate_nearest',
    'rotate_matrix', 'adjust_hue', 'resized_crop_bilinear',
    'gaussian_blur_pil', 'pil_blur_box_params', 'crop_with_padding', 'hflip',
    'cutout'
]


def _param(values: Params, img: torch.Tensor, dtype) -> torch.Tensor:
    """Per-sample values as a (N, 1, 1, 1) tensor on ``img``'s device."""
    t = torch.as_tensor(values, device=img.device).to(dtype)
    return t.reshape(-1, *([1] * (img.dim() - 1)))


def _u8(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.uint8)


def _div(a: torch.Tensor, b) -> torch.Tensor:
    """IEEE ``a / b`` (correctly rounded, as C's ``/``). PyTorch turns a
    division by a scalar, or by anything it broadcasts as one (a 0-dim or
    expanded tensor, or any operand of a one-element division), into a
    multiplication by the rounded reciprocal, which is not always the
    same; here both operands are materialised with at least 2 elements."""
    b = torch.as_tensor(b, dtype=a.dtype, device=a.device)
    a, b = torch.broadcast_tensors(a, b)
    one = a.new_ones(1)
    q = torch.cat([a.reshape(-1), one]) / torch.cat([b.reshape(-1), one])
    return q[:-1].view(a.shape)


@functools.lru_cache(maxsize=None)
def _unit_table(device: str) -> torch.Tensor:
    k = torch.arange(256, dtype=torch.float32)
    return _div(k, 255.0).to(device)


def _unit(img: torch.Tensor) -> torch.Tensor:
    """uint8 levels -> kornia's float [0, 1] (k / 255, IEEE)."""
    return _unit_table(str(img.device))[img.long()]


def _from_unit(x: torch.Tensor) -> torch.Tensor:
    """kornia's float [0, 1] (k / 255 exactly for level k) -> uint8."""
    return (x * 255.0).round_().clamp_(0, 255).to(torch.uint8)


# ----------------------------------------------------------------- colour ---
def rgb_to_l(img: torch.Tensor) -> torch.Tensor:
    """PIL's ``convert('L')`` of RGB: (R*19595 + G*38470 + B*7471 + 0x8000)
    >> 16 (ITU-R 601-2 in 16-bit fixed point, rounded), (N, 1, H, W)."""
    x = img.to(torch.int32)
    lum = (x[:, 0:1] * 19595 + x[:, 1:2] * 38470 + x[:, 2:3] * 7471 +
           0x8000) >> 16
    return _u8(lum)


def grayscale(img: torch.Tensor) -> torch.Tensor:
    """torchvision's ``rgb_to_grayscale(pil, 3)``: L replicated 3 times."""
    return rgb_to_l(img).expand_as(img).contiguous()


def blend(degenerate: torch.Tensor, img: torch.Tensor,
          alpha: Params) -> torch.Tensor:
    """PIL ``Image.blend(degenerate, img, alpha)`` (ImagingBlend): in float32,
    ``d + alpha * (x - d)``, clipped to [0, 255] and truncated."""
    a = _param(alpha, img, torch.float32)
    d = degenerate.to(torch.float32)
    out = d + a * (img.to(torch.float32) - d)
    return _u8(out.clamp_(0, 255).floor_())


def color(img: torch.Tensor, factor: Params) -> torch.Tensor:
    """``ImageEnhance.Color``: blend with the L image (as RGB)."""
    return blend(rgb_to_l(img).expand_as(img), img, factor)


def contrast(img: torch.Tensor, factor: Params) -> torch.Tensor:
    """``ImageEnhance.Contrast``: blend with a flat image of
    int(mean(L) + 0.5)."""
    lum = rgb_to_l(img)
    total = lum.flatten(1).to(torch.int64).sum(1)
    mean = torch.floor(_div(total.to(torch.float64), lum[0].numel()) + 0.5)
    degenerate = mean.view(-1, 1, 1, 1).expand_as(img)
    return blend(degenerate, img, factor)


def brightness(img: torch.Tensor, factor: Params) -> torch.Tensor:
    """``ImageEnhance.Brightness``: blend with black."""
    return blend(torch.zeros_like(img), img, factor)


@functools.lru_cache(maxsize=None)
def _smooth_kernel():
    """SMOOTH's 1/13 and 5/13 as PIL computes them (float32 division)."""
    k = _div(torch.tensor([1.0, 5.0], dtype=torch.float32), 13.0)
    return float(k[0]), float(k[1])


def smooth(img: torch.Tensor) -> torch.Tensor:
    """``img.filter(ImageFilter.SMOOTH)`` (ImagingFilter3x3, kernel
    [[1,1,1],[1,5,1],[1,1,1]]/13, float32, +0.5 then truncated); the
    one-pixel border is copied unchanged, as PIL does."""
    n, c, h, w = img.shape
    if h < 3 or w < 3:
        return img.clone()
    k1, k5 = _smooth_kernel()
    x = img.to(torch.float32)

    def row(r, centre):
        left, mid, right = r[..., :-2], r[..., 1:-1], r[..., 2:]
        return (left * k1 + mid * centre) + right * k1

    below, here, above = x[:, :, 2:], x[:, :, 1:-1], x[:, :, :-2]
    ss = 0.5 + row(below, k1)
    ss = ss + row(here, k5)
    ss = ss + row(above, k1)
    out = img.clone()
    out[:, :, 1:-1, 1:-1] = _u8(ss.clamp_(0, 255))
    return out


def sharpness(img: torch.Tensor, factor: Params) -> torch.Tensor:
    """``ImageEnhance.Sharpness``: blend with the SMOOTH-filtered image."""
    return blend(smooth(img), img, factor)


def posterize(img: torch.Tensor, bits: Params) -> torch.Tensor:
    """``ImageOps.posterize``: keep the ``bits`` high bits (kornia)."""
    b = torch.as_tensor(bits, device=img.device).to(torch.int64).reshape(-1)
    return _from_unit(kornia.enhance.posterize(_unit(img), b))


def solarize(img: torch.Tensor, threshold: Params) -> torch.Tensor:
    """``ImageOps.solarize``: v -> 255 - v for v >= threshold (kornia)."""
    t = _div(torch.as_tensor(threshold, device=img.device).to(
        torch.float32).reshape(-1), 255.0)
    return _from_unit(kornia.enhance.solarize(_unit(img), t))


def invert(img: torch.Tensor) -> torch.Tensor:
    """``ImageOps.invert``: 255 - v (kornia)."""
    return _from_unit(kornia.enhance.invert(_unit(img)))


def equalize(img: torch.Tensor) -> torch.Tensor:
    """``ImageOps.equalize`` per channel (kornia's batched equalize, which
    builds PIL's lookup table: step = (count - last bin) // 255)."""
    return _from_unit(kornia.enhance.equalize(_unit(img)))


def autocontrast(img: torch.Tensor) -> torch.Tensor:
    """``ImageOps.autocontrast`` (cutoff 0) per channel: lo/hi the lowest
    and highest level present; v -> int(v * 255/(hi-lo) - lo * 255/(hi-lo))
    clipped, in float64; unchanged where hi <= lo."""
    flat = img.flatten(2)
    lo = flat.amin(2).to(torch.float64)[..., None, None]
    hi = flat.amax(2).to(torch.float64)[..., None, None]
    stretch = hi > lo
    scale = _div(torch.full_like(hi, 255.0),
                 torch.where(stretch, hi - lo, torch.ones_like(hi)))
    offset = -lo * scale
    out = (img.to(torch.float64) * scale + offset).clamp_(0, 255).floor_()
    return torch.where(stretch, _u8(out), img)


# -------------------------------------------------------------- geometric ---
def _bicubic(v1, v2, v3, v4, d):
    """PIL's BICUBIC macro (cubic convolution with a = -1), float64."""
    p1 = v2
    p2 = v3 - v1
    p3 = ((2 * (v1 - v2)) + v3) - v4
    p4 = ((v2 - v1) - v3) + v4
    return p1 + d * (p2 + d * (p3 + d * p4))


def _fill_like(fill, img):
    f = torch.as_tensor(fill, device=img.device, dtype=torch.uint8)
    return f.reshape(1, -1, 1, 1).expand_as(img) if f.dim() else f


def affine_bicubic(img: torch.Tensor, matrix: torch.Tensor,
                   fill=(128, 128, 128)) -> torch.Tensor:
    """``img.transform(size, AFFINE, matrix, BICUBIC, fillcolor=fill)``:
    output pixel (x, y) samples input (a*(x+.5) + b*(y+.5) + c,
    d*(x+.5) + e*(y+.5) + f) with PIL's bicubic (a = -1, edge pixels
    repeated), float64, truncated; a source outside the image gives
    ``fill``. ``matrix``: (N, 6) (a, b, c, d, e, f).

    Where one axis maps to itself for every sample (shear X: d = f = 0,
    e = 1; shear Y: a = 1, b = c = 0), PIL's weight on that axis is
    d = 0 and its result is the 1-D interpolation along the other axis,
    bit for bit: that is what runs then (4 taps instead of 16)."""
    n, c, h, w = img.shape
    dev = img.device
    m = torch.as_tensor(matrix, dtype=torch.float64, device=dev).reshape(n, 6)
    a = [m[:, i].view(n, 1, 1) for i in range(6)]
    ys = torch.arange(h, device=dev, dtype=torch.float64).view(1, h, 1) + 0.5
    xs = torch.arange(w, device=dev, dtype=torch.float64).view(1, 1, w) + 0.5
    xin = (a[0] * xs + a[1] * ys) + a[2]
    yin = (a[3] * xs + a[4] * ys) + a[5]
    valid = (xin >= 0) & (xin < w) & (yin >= 0) & (yin < h)
    rows_fixed = bool(((m[:, 3] == 0) & (m[:, 4] == 1) & (m[:, 5] == 0)).all())
    cols_fixed = bool(((m[:, 0] == 1) & (m[:, 1] == 0) & (m[:, 2] == 0)).all())
    if rows_fixed:
        out = _bicubic_1d(img, xin - 0.5, 3)
    elif cols_fixed:
        out = _bicubic_1d(img, yin - 0.5, 2)
    else:
        out = _bicubic_2d(img, xin - 0.5, yin - 0.5)
    out = _u8(out.clamp_(0, 255).floor_())
    return torch.where(valid[:, None], out, _fill_like(fill, img))


def _bicubic_1d(img, coord, dim):
    """PIL's bicubic along ``dim`` (3: x, 2: y) at source coordinate
    ``coord`` (n, h, w) (pixel centres at integers), float64."""
    n, c, h, w = img.shape
    size = img.shape[dim]
    c0 = torch.floor(coord)
    d = (coord - c0)[:, None]
    base = c0.long()[:, None]  # (n, 1, h, w)
    src = img.to(torch.float64)
    taps = [src.gather(dim, (base + k).clamp_(0, size - 1).expand(n, c, h, w))
            for k in (-1, 0, 1, 2)]
    return _bicubic(*taps, d)


def _bicubic_2d(img, xin, yin):
    """PIL's 2-D bicubic (BICUBIC_BODY: 4 row interpolations along x, then
    one along y) at (xin, yin) (n, h, w), float64."""
    n, c, h, w = img.shape
    dev = img.device
    x0, y0 = torch.floor(xin), torch.floor(yin)
    dx, dy = (xin - x0)[:, None], (yin - y0)[:, None]
    taps = torch.arange(-1, 3, device=dev)
    ix = (x0.long()[..., None] + taps).clamp_(0, w - 1)  # (n, h, w, 4)
    iy = (y0.long()[..., None] + taps).clamp_(0, h - 1)
    index = (iy[..., :, None] * w + ix[..., None, :]).view(n, 1, -1)
    src = img.reshape(n, c, h * w).to(torch.float64)
    v = src.gather(2, index.expand(n, c, -1)).view(n, c, h, w, 4, 4)
    rows = [_bicubic(v[..., r, 0], v[..., r, 1], v[..., r, 2], v[..., r, 3],
                     dx) for r in range(4)]
    return _bicubic(*rows, dy)


def _gather_nearest(img, src_x, src_y, fill):
    """out[n, :, y, x] = img[n, :, src_y, src_x] where both are inside the
    image, else ``fill``; src_* int64 (n, h, w)."""
    n, c, h, w = img.shape
    valid = (src_x >= 0) & (src_x < w) & (src_y >= 0) & (src_y < h)
    index = (src_y.clamp(0, h - 1) * w + src_x.clamp(0, w - 1)).view(n, 1, -1)
    out = img.reshape(n, c, h * w).gather(2, index.expand(n, c, -1))
    return torch.where(valid[:, None], out.view(n, c, h, w),
                       _fill_like(fill, img))


def translate_nearest(img: torch.Tensor, tx: Params, ty: Params,
                      fill=(128, 128, 128)) -> torch.Tensor:
    """``img.transform(size, AFFINE, (1, 0, tx, 0, 1, ty), fillcolor=fill)``
    (nearest; PIL's ImagingScaleAffine): output (x, y) takes input
    (floor(x + 0.5 + tx), floor(y + 0.5 + ty)), ``fill`` outside. (PIL
    accumulates x + 0.5 + tx by repeated += 1.0; both agree unless
    tx + 0.5 is within ~1e-14 of an integer.)"""
    n, c, h, w = img.shape
    dev = img.device
    tx = torch.as_tensor(tx, dtype=torch.float64, device=dev).view(n, 1, 1)
    ty = torch.as_tensor(ty, dtype=torch.float64, device=dev).view(n, 1, 1)
    xs = torch.arange(w, device=dev, dtype=torch.float64).view(1, 1, w)
    ys = torch.arange(h, device=dev, dtype=torch.float64).view(1, h, 1)
    src_x = torch.floor((tx + 0.5) + xs).long().expand(n, h, w)
    src_y = torch.floor((ty + 0.5) + ys).long().expand(n, h, w)
    return _gather_nearest(img, src_x, src_y, fill)


def rotate_matrix(angle: float, w: int, h: int):
    """The inverse affine matrix of ``Image.rotate(angle)`` (centre
    (w/2, h/2), no expand), computed exactly as PIL does (Python floats)."""
    a = -math.radians(angle % 360.0)
    m = [round(math.cos(a), 15), round(math.sin(a), 15), 0.0,
         round(-math.sin(a), 15), round(math.cos(a), 15), 0.0]
    cx, cy = w / 2, h / 2
    m[2] = m[0] * -cx + m[1] * -cy + m[2] + cx
    m[5] = m[3] * -cx + m[4] * -cy + m[5] + cy
    return m


def _fix(v: float) -> int:
    """PIL's 16.16 fixed point: FLOOR(v * 65536.0 + 0.5)."""
    return math.floor(v * 65536.0 + 0.5)


def rotate_nearest(img: torch.Tensor, angle: Params,
                   fill=(128, 128, 128)) -> torch.Tensor:
    """The CPU AutoAugment's rotate: ``img.convert('RGBA').rotate(angle)``
    (nearest, counter-clockwise degrees, around the centre) composited over
    ``fill``: PIL's fast paths for multiples of 90 degrees, otherwise its
    16.16 fixed-point nearest affine (affine_fixed), reproduced in int64.
    The matrices are built on the host from the angles (one transfer)."""
    n, c, h, w = img.shape
    dev = img.device
    angles = torch.as_tensor(angle, dtype=torch.float64).reshape(-1).tolist()
    out = torch.empty_like(img)
    general = []
    for i, ang in enumerate(angles):
        ang = ang % 360.0
        if ang == 0:
            out[i] = img[i]
        elif ang == 180:
            out[i] = img[i].flip(-1, -2)
        elif ang in (90, 270) and w == h:
            out[i] = torch.rot90(img[i], 1 if ang == 90 else -1, (-2, -1))
        else:
            general.append(i)
    if not general:
        return out
    fixed = []
    for i in general:
        a = rotate_matrix(angles[i], w, h)
        fixed.append([_fix(a[0]), _fix(a[1]),
                      _fix(a[2] + a[0] * 0.5 + a[1] * 0.5), _fix(a[3]),
                      _fix(a[4]), _fix(a[5] + a[3] * 0.5 + a[4] * 0.5)])
    f = torch.tensor(fixed, dtype=torch.int64, device=dev)
    f = [f[:, k].view(-1, 1, 1) for k in range(6)]
    xs = torch.arange(w, device=dev, dtype=torch.int64).view(1, 1, w)
    ys = torch.arange(h, device=dev, dtype=torch.int64).view(1, h, 1)
    src_x = (f[2] + ys * f[1] + xs * f[0]) >> 16
    src_y = (f[5] + ys * f[4] + xs * f[3]) >> 16
    idx = torch.tensor(general, device=dev)
    out[idx] = _gather_nearest(img[idx], src_x, src_y, fill)
    return out


def crop_with_padding(img: torch.Tensor, top: Params, left: Params,
                      size: Sequence[int], padding: int,
                      pad_val: int = 0) -> torch.Tensor:
    """MMPretrain ``RandomCrop(size, padding)``: pad every side by
    ``padding`` with ``pad_val`` (mmcv.impad, constant), then crop
    ``size`` = (h, w) at (top, left) of the padded image."""
    n, c, h, w = img.shape
    dev = img.device
    oh, ow = size
    top = torch.as_tensor(top, device=dev).long().view(n, 1, 1)
    left = torch.as_tensor(left, device=dev).long().view(n, 1, 1)
    src_y = (top - padding + torch.arange(oh, device=dev).view(1, oh, 1))
    src_x = (left - padding + torch.arange(ow, device=dev).view(1, 1, ow))
    src_y, src_x = src_y.expand(n, oh, ow), src_x.expand(n, oh, ow)
    valid = (src_x >= 0) & (src_x < w) & (src_y >= 0) & (src_y < h)
    index = (src_y.clamp(0, h - 1) * w + src_x.clamp(0, w - 1)).view(n, 1, -1)
    out = img.reshape(n, c, h * w).gather(2, index.expand(n, c, -1))
    out = out.view(n, c, oh, ow)
    return torch.where(valid[:, None], out,
                       torch.full_like(out[:1], pad_val))


def hflip(img: torch.Tensor, flip: Params) -> torch.Tensor:
    """Horizontal flip of the samples where ``flip`` is true."""
    f = _param(flip, img, torch.bool)
    return torch.where(f, img.flip(-1), img)


def cutout(img: torch.Tensor, cy: torch.Tensor, cx: torch.Tensor,
           length: int, fill=0) -> torch.Tensor:
    """The CPU ``SAUCutout``: for each hole (centre cy, cx; (N, holes)) set
    rows [cy - length//2, cy + length//2) x cols [cx - length//2,
    cx + length//2), clipped at the borders, to ``fill``."""
    n, c, h, w = img.shape
    dev = img.device
    cy = torch.as_tensor(cy, device=dev).long().view(n, -1, 1, 1)
    cx = torch.as_tensor(cx, device=dev).long().view(n, -1, 1, 1)
    ys = torch.arange(h, device=dev).view(1, 1, h, 1)
    xs = torch.arange(w, device=dev).view(1, 1, 1, w)
    half = length // 2
    inside = ((ys >= cy - half) & (ys < cy + half) & (xs >= cx - half) &
              (xs < cx + half)).any(1, keepdim=True)
    return torch.where(inside, _fill_like(fill, img), img)


# -------------------------------------------------------------------- hue ---
def _round_half_away(x: torch.Tensor) -> torch.Tensor:
    """C's round() for x >= 0 (half away from zero), exact in float64."""
    fl = torch.floor(x)
    return fl + ((x - fl) >= 0.5).to(x.dtype)


def adjust_hue(img: torch.Tensor, hue_factor: Params) -> torch.Tensor:
    """torchvision's ``adjust_hue`` on a PIL image: PIL RGB -> HSV (uint8
    channels, Convert.c rgb2hsv), H += int(hue_factor * 255) mod 256, HSV ->
    RGB (hsv2rgb), with PIL's float32/float64 steps in the same order."""
    dev = img.device
    f32, f64 = torch.float32, torch.float64
    x = img.to(torch.int64)
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    maxc = torch.maximum(r, torch.maximum(g, b))
    minc = torch.minimum(r, torch.minimum(g, b))
    grey = maxc == minc
    cr = (maxc - minc).to(f32)
    cr_safe = torch.where(grey, torch.ones_like(cr), cr)
    maxc_safe = torch.where(maxc == 0, torch.ones_like(maxc), maxc).to(f32)
    s = _div(cr, maxc_safe)
    rc = _div((maxc - r).to(f32), cr_safe)
    gc = _div((maxc - g).to(f32), cr_safe)
    bc = _div((maxc - b).to(f32), cr_safe)
    h_r = bc - gc
    h_g = ((2.0 + rc.to(f64)) - bc.to(f64)).to(f32)
    h_b = ((4.0 + gc.to(f64)) - rc.to(f64)).to(f32)
    hh = torch.where(r == maxc, h_r, torch.where(g == maxc, h_g, h_b))
    hh = torch.fmod(_div(hh.to(f64), 6.0) + 1.0, 1.0).to(f32)
    uh = torch.floor(hh.to(f64) * 255.0).clamp_(0, 255).long()
    us = torch.floor(s.to(f64) * 255.0).clamp_(0, 255).long()
    uh = torch.where(grey, torch.zeros_like(uh), uh)
    us = torch.where(grey, torch.zeros_like(us), us)
    v = maxc

    shift = torch.trunc(
        torch.as_tensor(hue_factor, device=dev).to(f64).reshape(-1) *
        255.0).long().view(-1, 1, 1)
    h = torch.remainder(uh + shift, 256)

    hd = _div(h.to(f64) * 6.0, 255.0)
    i = torch.floor(hd)
    f = (hd - i).to(f32)
    fs = _div(us.to(f64), 255.0).to(f32)
    vd = v.to(f64)
    p = _round_half_away(vd * (1.0 - fs.to(f64)))
    q = _round_half_away(vd * (1.0 - (fs * f).to(f64)))
    t = _round_half_away(vd * (1.0 - fs.to(f64) * (1.0 - f.to(f64))))
    p, q, t = (z.clamp_(0, 255).long() for z in (p, q, t))
    sector = i.long() % 6
    # hsv2rgb's switch: per sector, which of (v, p, q, t) each channel takes
    pick = torch.tensor([[0, 3, 1], [2, 0, 1], [1, 0, 3], [1, 2, 0],
                         [3, 1, 0], [0, 1, 2]], device=dev)[sector]
    pick = torch.where((us == 0)[..., None], torch.zeros_like(pick), pick)
    cands = torch.stack([v, p, q, t], -1)  # (n, h, w, 4)
    out = cands.gather(-1, pick)  # (n, h, w, 3)
    return _u8(out.permute(0, 3, 1, 2))


# ----------------------------------------------------------------- resize ---
@functools.lru_cache(maxsize=None)
def _bilinear_table(max_in: int, out_size: int):
    """PIL's antialiased bilinear coefficients (precompute_coeffs, then
    normalize_coeffs_8bpc: 22-bit fixed point) for every input size
    1..max_in: ``xmin`` (max_in + 1, out_size) the first tap of each
    output and ``kk`` (max_in + 1, out_size, K) int32 its weights (zeros
    past the last tap), in C's double arithmetic."""
    sizes = range(1, max_in + 1)
    ksize = max(int(math.ceil(max(float(s) / out_size, 1.0))) * 2 + 1
                for s in sizes)
    xmin_t = torch.zeros(max_in + 1, out_size, dtype=torch.int64)
    kk_t = torch.zeros(max_in + 1, out_size, ksize, dtype=torch.int32)
    for size in sizes:
        scale = float(size) / out_size
        filterscale = max(scale, 1.0)
        support = 1.0 * filterscale
        inv = 1.0 / filterscale
        for xx in range(out_size):
            centre = 0.0 + (xx + 0.5) * scale
            xmin = max(int(centre - support + 0.5), 0)
            xmax = min(int(centre + support + 0.5), size) - xmin
            ws = []
            for x in range(xmax):
                t = abs((x + xmin - centre + 0.5) * inv)
                ws.append(1.0 - t if t < 1.0 else 0.0)
            total = 0.0
            for wv in ws:  # C's ww += w, left to right
                total += wv
            if total != 0.0:
                ws = [wv / total for wv in ws]
            xmin_t[size, xx] = xmin
            for x, wv in enumerate(ws):
                kk_t[size, xx, x] = (int(-0.5 + wv * (1 << 22)) if wv < 0
                                     else int(0.5 + wv * (1 << 22)))
    return xmin_t, kk_t


_TABLES = {}


def _device_table(max_in, out_size, device):
    key = (max_in, out_size, str(device))
    if key not in _TABLES:
        _TABLES[key] = tuple(t.to(device)
                             for t in _bilinear_table(max_in, out_size))
    return _TABLES[key]


def _resample_pass(x: torch.Tensor, dim: int, start: torch.Tensor,
                   length: torch.Tensor, out_size: int) -> torch.Tensor:
    """One PIL 8-bit resample pass along ``dim`` (3: horizontal, 2:
    vertical) of the window [start, start + length) of each sample to
    ``out_size``: ss = 2**21 + sum(in * k) in int32, clip8(ss >> 22)."""
    n = x.shape[0]
    size = x.shape[dim]
    xmin_t, kk_t = _device_table(size, out_size, x.device)
    k = kk_t.shape[2]
    first = xmin_t[length] + start.view(n, 1)  # (n, out)
    index = (first[..., None] + torch.arange(k, device=x.device)).clamp_(
        0, size - 1).view(n, -1)  # (n, out * k); zero weights past xmax
    weights = kk_t[length]  # (n, out, k)
    if dim == 3:
        c, h = x.shape[1:3]
        taps = x.gather(3, index.view(n, 1, 1, -1).expand(n, c, h, -1))
        acc = (taps.view(n, c, h, out_size, k) *
               weights.view(n, 1, 1, out_size, k)).sum(-1, dtype=torch.int32)
    else:
        c, w = x.shape[1], x.shape[3]
        taps = x.gather(2, index.view(n, 1, -1, 1).expand(n, c, -1, w))
        acc = (taps.view(n, c, out_size, k, w) *
               weights.view(n, 1, out_size, k, 1)).sum(-2, dtype=torch.int32)
    return ((acc + (1 << 21)) >> 22).clamp_(0, 255)


def resized_crop_bilinear(img: torch.Tensor, top: Params, left: Params,
                          height: Params, width: Params,
                          size: Sequence[int]) -> torch.Tensor:
    """torchvision ``resized_crop(pil, top, left, height, width, size,
    BILINEAR, antialias=True)``: PIL crop then ``resize`` with its two-pass
    (horizontal, then vertical) antialiased bilinear in 22-bit fixed point,
    int32 sums as in Resample.c, uint8 between the passes. (PIL skips a
    pass whose size does not change; its weights are then the identity,
    the same result.)"""
    n = img.shape[0]
    dev = img.device
    oh, ow = size
    top, left, height, width = (
        torch.as_tensor(v, device=dev).long().reshape(n)
        for v in (top, left, height, width))
    x = img.to(torch.int32)
    x = _resample_pass(x, 3, left, width, ow)
    x = _resample_pass(x, 2, top, height, oh)
    return _u8(x)


# ------------------------------------------------------------------- blur ---
def pil_blur_box_params(sigma: Params, device=None, passes: int = 3):
    """PIL's ``GaussianBlur(radius=sigma)`` box parameters
    (_gaussian_blur_radius, ImagingHorizontalBoxBlur), float32/float64
    steps as in BoxBlur.c: per sample the float box radius, its integer
    part r, and the 24-bit weights ww (inner pixels) and fw (the two
    fractional edge pixels)."""
    f32, f64 = torch.float32, torch.float64
    radius = torch.as_tensor(sigma, device=device).to(f32).reshape(-1)
    sigma2 = _div(radius * radius, float(passes))
    big_l = torch.sqrt(12.0 * sigma2.to(f64) + 1.0).to(f32)
    small_l = torch.floor((big_l.to(f64) - 1.0) / 2.0).to(f32)
    a = (2 * small_l + 1) * (small_l * (small_l + 1) - 3 * sigma2)
    a = _div(a, 6 * (sigma2 - (small_l + 1) * (small_l + 1)))
    box = small_l + a
    r = box.to(torch.int64)  # (int) of a non-negative float
    ww = _div(torch.full_like(box, 16777216.0), box * 2 + 1).to(torch.int64)
    fw = ((1 << 24) - (r * 2 + 1) * ww) // 2
    return box, r, ww, fw


def _box_pass(x: torch.Tensor, dim: int, r: torch.Tensor, ww: torch.Tensor,
              fw: torch.Tensor, rmax: int) -> torch.Tensor:
    """One ImagingLineBoxBlur along ``dim`` of int32 ``x``: (ww *
    sum(x[clamp(i-r .. i+r)]) + fw * (x[clamp(i-r-1)] + x[clamp(i+r+1)]) +
    2**23) >> 24; r (n, 1, 1, 1), r <= rmax; ww, fw (2, n, 1, 1, 1), the
    weights split as (w >> 8, w & 255) so every product fits int32: with
    X = acc * ww_hi + far * fw_hi and L = acc * ww_lo + far * fw_lo + 2**23,
    PIL's UINT32 result is exactly (X + (L >> 8)) >> 16."""
    length = x.shape[dim]
    pad = rmax + 1
    first = x.narrow(dim, 0, 1)
    last = x.narrow(dim, length - 1, 1)
    xp = torch.cat([first] * pad + [x] + [last] * pad, dim)

    def shifted(k):
        return xp.narrow(dim, pad + k, length)

    acc = shifted(0).clone()
    for k in range(1, rmax + 1):
        acc += (shifted(-k) + shifted(k)) * (r >= k)
    far = shifted(-1) + shifted(1)
    for k in range(1, rmax + 1):
        far = torch.where(r == k, shifted(-k - 1) + shifted(k + 1), far)
    high = acc * ww[0] + far * fw[0]
    low = acc * ww[1] + far * fw[1] + (1 << 23)
    return (high + (low >> 8)) >> 16


def gaussian_blur_pil(img: torch.Tensor, sigma: Params,
                      passes: int = 3) -> torch.Tensor:
    """``img.filter(ImageFilter.GaussianBlur(radius=sigma))``: PIL's
    extended box blur (Gwosdek et al. 2011), ``passes`` horizontal box
    passes then ``passes`` vertical ones, each rounded to uint8, in its
    24-bit fixed point: equal to PIL, not an approximation of it."""
    n = img.shape[0]
    box, r, ww, fw = pil_blur_box_params(sigma, img.device, passes)
    rmax = int(r.max()) if n else 0
    view = (n, 1, 1, 1)
    r = r.view(view).to(torch.int32)
    ww = torch.stack([ww >> 8, ww & 255]).view(2, *view).to(torch.int32)
    fw = torch.stack([fw >> 8, fw & 255]).view(2, *view).to(torch.int32)
    x = img.to(torch.int32)
    for dim in (3, 2):
        for _ in range(passes):
            x = _box_pass(x, dim, r, ww, fw, rmax)
    out = _u8(x)
    return torch.where((box == 0).view(view), img, out)
