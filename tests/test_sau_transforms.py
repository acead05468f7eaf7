import sau_mm  # noqa: F401  (compat fixes before mmpretrain/torchvision)
import numpy as np
import pytest
import torch
from mmpretrain.registry import TRANSFORMS

from sau_mm.datasets.transforms import CIFAR10AutoAugment, Cutout, SimAugment


def image(h=32, w=32, seed=0):
    """A textured RGB uint8 image (gradients + noise), no zero pixels."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([yy * 200 // h, xx * 200 // w, (yy + xx) * 100 // (h + w)],
                   -1) + rng.integers(20, 55, (h, w, 3))
    return img.astype(np.uint8)


def run(transform, img):
    return transform(dict(img=img.copy()))['img']


@pytest.mark.parametrize('cfg', [dict(type='CIFAR10AutoAugment'),
                                 dict(type='SAUCutout'),
                                 dict(type='SimAugment')])
def test_shape_dtype_and_registry(cfg):
    transform = TRANSFORMS.build(cfg)
    img = image()
    out = run(transform, img)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert out.flags.c_contiguous


def expected_cutout(img, cy, cx, length, fill=0):
    """DeVries & Taylor: square of side ``length`` centred at (cy, cx),
    clipped at the borders."""
    out = img.copy()
    h, w = img.shape[:2]
    for y in range(h):
        for x in range(w):
            if cy - length // 2 <= y < cy + length // 2 and \
                    cx - length // 2 <= x < cx + length // 2:
                out[y, x] = fill
    return out


@pytest.mark.parametrize('seed', range(8))
def test_cutout_zeroes_exactly_the_clipped_square(seed):
    img = image(seed=seed)
    np.random.seed(seed)
    cy, cx = np.random.randint(32), np.random.randint(32)
    np.random.seed(seed)
    out = run(Cutout(n_holes=1, length=16), img)
    assert np.array_equal(out, expected_cutout(img, cy, cx, 16))
    assert (out == 0).all(-1).sum() >= 8 * 8  # a clipped box keeps >= 1/4


def test_cutout_clipped_at_border_and_options():
    img = image()
    sizes = set()
    for seed in range(40):
        np.random.seed(seed)
        sizes.add(int((run(Cutout(), img) == 0).all(-1).sum()))
    assert 256 in sizes and min(sizes) < 256  # full and clipped squares
    assert np.array_equal(run(Cutout(n_holes=0), img), img)
    out = run(Cutout(length=64, fill=(1, 2, 3)), img)  # covers everything
    assert (out == np.array([1, 2, 3], np.uint8)).all()


@pytest.mark.parametrize('transform', [CIFAR10AutoAugment(), SimAugment()])
def test_seeded_reproducible_and_changes_image(transform):
    img = image()
    outs = []
    for seed in range(6):
        torch.manual_seed(seed)
        first = run(transform, img)
        torch.manual_seed(seed)
        assert np.array_equal(run(transform, img), first)
        outs.append(first)
    assert any(not np.array_equal(out, img) for out in outs)
    assert any(not np.array_equal(out, outs[0]) for out in outs[1:])


def test_sim_augment_resizes_to_size():
    results = SimAugment(size=32)(dict(img=image(48, 40)))
    assert results['img'].shape == (32, 32, 3)
    assert results['img_shape'] == (32, 32)


def test_autoaugment_gray_fill():
    # Geometric ops (rotate/shear/translate) fill the uncovered area with
    # gray 128; on an all-white image any non-255 pixel after a geometric op
    # is 128 (colour ops keep a constant image constant or change all of it).
    img = np.full((32, 32, 3), 255, np.uint8)
    transform = CIFAR10AutoAugment()
    seen_gray = False
    for seed in range(60):
        torch.manual_seed(seed)
        out = run(transform, img)
        if len(np.unique(out.reshape(-1, 3), axis=0)) > 1:
            seen_gray |= bool((out == 128).all(-1).any())
    assert seen_gray
