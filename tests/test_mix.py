import math

import sau_mm  # noqa: F401  (compat fixes before mmpretrain)
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sau_mm.models.utils import cutmix, cutmix_box, mixup, sample_lambda

C = 5


def onehots(n, seed):
    g = torch.Generator().manual_seed(seed)
    return F.one_hot(torch.randint(C, (n, ), generator=g), C).float()


def test_sample_lambda_range_and_seeding():
    lams = [sample_lambda(1.0, np.random.default_rng(s)) for s in range(200)]
    assert all(0.0 <= lam <= 1.0 for lam in lams)
    assert sample_lambda(0.4, np.random.default_rng(7)) == \
        sample_lambda(0.4, np.random.default_rng(7))
    np.random.seed(3)
    first = sample_lambda()
    np.random.seed(3)
    assert sample_lambda() == first
    # Beta(1, 1) is uniform: mean 1/2.
    assert abs(np.mean(lams) - 0.5) < 0.06
    with pytest.raises(ValueError):
        sample_lambda(0.0)


def test_mixup_label_mass_and_identity():
    x, x2 = torch.randn(4, 3, 8, 8), torch.randn(4, 3, 8, 8)
    y, y2 = onehots(4, 0), onehots(4, 1)
    for lam in (0.0, 0.3, 1.0):
        xm, ym = mixup(x, y, x2, y2, lam)
        assert torch.allclose(ym.sum(1), torch.ones(4))
        assert torch.allclose(xm, lam * x + (1 - lam) * x2)
    xm, ym = mixup(x, y, x.clone(), y.clone(), 0.37)
    assert torch.allclose(xm, x) and torch.allclose(ym, y)


def authors_box(h, w, lam, cx, cy):
    """Paper Eq. 6 as the authors' code draws it: centre (cx, cy), sides
    W sqrt(1 - lam), H sqrt(1 - lam), edges clipped to the image, then
    rounded."""
    def edge(c, side, size):
        return (round(min(max(c - side / 2, 0), size)),
                round(min(max(c + side / 2, 0), size)))
    x1, x2 = edge(cx, w * math.sqrt(1 - lam), w)
    y1, y2 = edge(cy, h * math.sqrt(1 - lam), h)
    return y1, y2, x1, x2


@pytest.mark.parametrize('seed', range(20))
def test_cutmix_box_is_the_authors_box(seed):
    h, w = 32, 24
    lam = sample_lambda(1.0, np.random.default_rng(seed))
    box = cutmix_box(h, w, lam, np.random.default_rng(seed + 100))
    draw = np.random.default_rng(seed + 100)
    cx, cy = draw.uniform(0, w), draw.uniform(0, h)
    assert box == authors_box(h, w, lam, cx, cy)


def test_cutmix_box_real_valued_centre_and_rounding():
    # A real-valued centre at 10.6 with side 32 * sqrt(0.75) = 27.71:
    # edges -3.26 -> 0 and 24.46 -> 24, not the integer-centre box.
    h = w = 32
    class Fixed:
        def uniform(self, low, high):
            return 10.6
    assert cutmix_box(h, w, 0.25, Fixed()) == (0, 24, 0, 24)
    # Area (1 - lam) W H before clipping: lam = 0.75, centre 16 -> 16 x 16.
    class Centre:
        def uniform(self, low, high):
            return high / 2
    assert cutmix_box(h, w, 0.75, Centre()) == (8, 24, 8, 24)
    assert cutmix_box(h, w, 1.0, Centre()) == (16, 16, 16, 16)


@pytest.mark.parametrize('seed', range(10))
def test_cutmix_label_is_the_drawn_lambda_by_default(seed):
    rng = np.random.default_rng(seed)
    lam = sample_lambda(1.0, rng)
    h, w = 32, 24
    x, x2 = torch.zeros(3, 3, h, w), torch.ones(3, 3, h, w)
    y = F.one_hot(torch.tensor([0, 1, 2]), C).float()
    y2 = F.one_hot(torch.tensor([3, 3, 4]), C).float()
    state = rng.bit_generator.state
    xm, ym, lam_label = cutmix(x, y, x2, y2, lam, generator=rng)
    pasted = float(xm[0, 0].mean())  # fraction of pixels from x2
    assert lam_label == lam
    assert torch.allclose(ym[[0, 1, 2], [0, 1, 2]], torch.full((3, ), lam))
    assert torch.allclose(ym[[0, 1, 2], [3, 3, 4]],
                          torch.full((3, ), 1 - lam))
    # Same box in every sample and channel; x untouched outside it.
    assert torch.equal(xm, xm[:1, :1].expand_as(xm))
    assert torch.equal(x, torch.zeros_like(x))
    # The area option labels by the pasted share instead.
    rng.bit_generator.state = state
    xa, ya, lam_area = cutmix(x, y, x2, y2, lam, label='area', generator=rng)
    assert torch.equal(xa, xm)
    assert lam_area == pytest.approx(1 - pasted)
    assert torch.allclose(ya[[0, 1, 2], [3, 3, 4]],
                          torch.full((3, ), pasted))


def test_cutmix_drawn_and_area_labels_differ_when_clipped():
    x, x2 = torch.zeros(1, 1, 32, 32), torch.ones(1, 1, 32, 32)
    y, y2 = onehots(1, 0), onehots(1, 1)
    differ = 0
    for seed in range(50):
        lam = 0.5
        _, _, drawn = cutmix(x, y, x2, y2, lam,
                             generator=np.random.default_rng(seed))
        _, _, area = cutmix(x, y, x2, y2, lam, label='area',
                            generator=np.random.default_rng(seed))
        assert drawn == lam
        differ += abs(area - lam) > 0.05
    assert differ > 10  # boxes clipped at a border keep more of x
    with pytest.raises(ValueError, match='label'):
        cutmix(x, y, x2, y2, 0.5, label='box')
