import math

import sau_mm  # noqa: F401  (compat fixes before mmpretrain)
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from sau_mm.models.losses import (SoftTargetCrossEntropyLoss,
                                  soft_target_cross_entropy)
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


@pytest.mark.parametrize('seed', range(20))
def test_cutmix_label_equals_pasted_fraction(seed):
    rng = np.random.default_rng(seed)
    lam = sample_lambda(1.0, rng)
    h, w = 32, 24
    x, x2 = torch.zeros(3, 3, h, w), torch.ones(3, 3, h, w)
    y = F.one_hot(torch.tensor([0, 1, 2]), C).float()
    y2 = F.one_hot(torch.tensor([3, 3, 4]), C).float()
    xm, ym, lam_eff = cutmix(x, y, x2, y2, lam, rng)
    pasted = xm[:, 0].mean(dim=(1, 2))  # fraction of pixels from x2
    assert torch.allclose(pasted, torch.full((3, ), 1 - lam_eff))
    assert torch.allclose(ym.sum(1), torch.ones(3))
    assert torch.allclose(ym[[0, 1, 2], [0, 1, 2]], 1 - pasted)
    assert torch.allclose(ym[[0, 1, 2], [3, 3, 4]], pasted)
    # Same box in every sample and channel; x untouched outside it.
    assert torch.equal(xm, xm[:1, :1].expand_as(xm))
    assert torch.equal(x, torch.zeros_like(x))


def test_cutmix_box_area_and_clipping():
    h = w = 32
    areas = []
    for seed in range(300):
        (y1, y2, x1, x2), lam_eff = cutmix_box(h, w, 0.75,
                                               np.random.default_rng(seed))
        assert 0 <= y1 <= y2 <= h and 0 <= x1 <= x2 <= w
        area = (y2 - y1) * (x2 - x1)
        assert lam_eff == pytest.approx(1 - area / (h * w))
        areas.append(area)
    # Side int(32 * sqrt(0.25)) = 16: area 256 = (1 - lam) * W * H unless
    # the box is clipped at a border, which happens for some centres.
    assert max(areas) == 256 and min(areas) < 256
    (y1, y2, x1, x2), lam_eff = cutmix_box(h, w, 1.0,
                                           np.random.default_rng(0))
    assert lam_eff == 1.0


def ref_soft_ce(logits, targets, weight):
    total = 0.0
    for i, (row, t) in enumerate(zip(logits.tolist(), targets.tolist())):
        log_norm = math.log(sum(math.exp(v) for v in row))
        loss = -sum(tk * (v - log_norm) for tk, v in zip(t, row))
        total += loss * (1.0 if weight is None else float(weight[i]))
    return total / len(logits)


def test_soft_target_cross_entropy():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(6, C, generator=g)
    targets = torch.softmax(torch.randn(6, C, generator=g), -1)
    weight = torch.rand(6, generator=g)
    for w in (None, weight):
        assert soft_target_cross_entropy(logits, targets, w).item() == \
            pytest.approx(ref_soft_ce(logits, targets, w), rel=1e-5)
    labels = torch.randint(C, (6, ), generator=g)
    assert torch.allclose(
        soft_target_cross_entropy(logits, F.one_hot(labels, C).float()),
        F.cross_entropy(logits, labels))
    assert torch.allclose(
        soft_target_cross_entropy(logits, targets, torch.ones(6)),
        soft_target_cross_entropy(logits, targets))


def test_soft_target_module():
    loss_fn = MODELS.build(dict(type='SoftTargetCrossEntropyLoss',
                                loss_weight=2.0))
    assert isinstance(loss_fn, SoftTargetCrossEntropyLoss)
    logits = torch.randn(4, C, requires_grad=True)
    labels = torch.tensor([0, 2, 4, 1])
    loss = loss_fn(logits, labels, avg_factor=4)
    assert torch.allclose(loss, 2 * F.cross_entropy(logits, labels))
    loss.backward()
    assert torch.isfinite(logits.grad).all()
