import math

import sau_mm  # noqa: F401  (compat fixes before mmpretrain)
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from sau_mm.models.losses import SupConNoiseLoss

STRATEGIES = ('drop', 'unique', 'negative_only')


def ref_loss(features, labels, noise, prototypes, strategy, tau=0.1):
    """Eq. (8) with the authors' reduction, one anchor at a time.

    Entries are (point, view, vector, label, noisy); prototype c is a point
    labelled c. drop: noisy points are left out; unique: a noisy anchor's
    positives are its own other views and a noisy point is nobody else's
    positive; negative_only: noisy points are neither anchors nor positives.
    """
    n, v = features.shape[:2]
    entries = []
    for j in range(n):
        if strategy == 'drop' and noise[j]:
            continue
        for view in range(v):
            entries.append((j, view, features[j, view].tolist(),
                            int(labels[j]), bool(noise[j])))
    if prototypes is not None:
        for c in range(prototypes.shape[1]):
            for view in range(v):
                entries.append((('proto', c), view,
                                prototypes[view, c].tolist(), c, False))

    def sim(a, b):
        return sum(x * y for x, y in zip(a, b)) / tau

    total, anchors = 0.0, 0
    for i, (pi, vi, zi, yi, ni) in enumerate(entries):
        if strategy == 'negative_only' and ni:
            continue
        anchors += 1
        denom = sum(math.exp(sim(zi, za))
                    for a, (_, _, za, _, _) in enumerate(entries) if a != i)
        positives = []
        for p, (pp, vp, zp, yp, np_) in enumerate(entries):
            if p == i:
                continue
            if strategy == 'unique' and (ni or np_):
                ok = pp == pi
            elif strategy == 'negative_only':
                ok = (not np_) and yp == yi
            else:
                ok = yp == yi
            if ok:
                positives.append(zp)
        if positives:
            total += -sum(math.log(math.exp(sim(zi, zp)) / denom)
                          for zp in positives) / len(positives)
    return total / anchors if anchors else 0.0


def make_batch(seed, n=10, v=2, d=6, c=4):
    g = torch.Generator().manual_seed(seed)
    feats = F.normalize(torch.randn(n, v, d, generator=g), dim=-1)
    # class 3 has a single sample; class 2 none (only its prototype).
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 0, 1, 3, 0])[:n]
    noise = torch.zeros(n, dtype=torch.bool)
    noise[[1, 4, 8]] = True
    protos = F.normalize(torch.randn(v, c, d, generator=g), dim=-1)
    return feats, labels, noise, protos


@pytest.mark.parametrize('strategy', STRATEGIES)
@pytest.mark.parametrize('use_protos', [False, True])
@pytest.mark.parametrize('seed', [0, 1])
def test_matches_reference(strategy, use_protos, seed):
    feats, labels, noise, protos = make_batch(seed)
    protos = protos if use_protos else None
    loss = SupConNoiseLoss(noise_strategy=strategy)(feats, labels, noise,
                                                    protos)
    assert loss.item() == pytest.approx(
        ref_loss(feats, labels, noise, protos, strategy), rel=1e-4)


@pytest.mark.parametrize('strategy', STRATEGIES)
def test_three_views_and_temperature(strategy):
    feats, labels, noise, protos = make_batch(2, v=3)
    loss = SupConNoiseLoss(temperature=0.5, noise_strategy=strategy)(
        feats, labels, noise, protos)
    assert loss.item() == pytest.approx(
        ref_loss(feats, labels, noise, protos, strategy, tau=0.5), rel=1e-4)


@pytest.mark.parametrize('use_protos', [False, True])
def test_no_noise_all_strategies_agree(use_protos):
    feats, labels, _, protos = make_batch(3)
    protos = protos if use_protos else None
    expected = ref_loss(feats, labels, [False] * len(labels), protos, 'drop')
    for strategy in STRATEGIES:
        loss_fn = SupConNoiseLoss(noise_strategy=strategy)
        for mask in (None, torch.zeros(len(labels), dtype=torch.bool)):
            assert loss_fn(feats, labels, mask, protos).item() == \
                pytest.approx(expected, rel=1e-4)


def test_anchor_without_positive_counts_in_mean():
    # One view, two points of different classes: no positives at all.
    feats = F.normalize(torch.randn(2, 1, 4), dim=-1)
    loss = SupConNoiseLoss()(feats, torch.tensor([0, 1]))
    assert loss.item() == 0.0
    # Three points, one view: only the two class-0 anchors have a positive,
    # the class-1 anchor adds 0 but the mean is over 3 anchors.
    feats = F.normalize(torch.randn(3, 1, 4), dim=-1)
    labels = torch.tensor([0, 0, 1])
    loss = SupConNoiseLoss()(feats, labels)
    assert loss.item() == pytest.approx(
        ref_loss(feats, labels, [False] * 3, None, 'drop'), rel=1e-5)


@pytest.mark.parametrize('strategy', STRATEGIES)
@pytest.mark.parametrize('use_protos', [False, True])
def test_gradients_finite(strategy, use_protos):
    feats, labels, noise, protos = make_batch(4)
    feats.requires_grad_(True)
    protos = protos.clone().requires_grad_(True) if use_protos else None
    loss = SupConNoiseLoss(noise_strategy=strategy)(feats, labels, noise,
                                                    protos)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(feats.grad).all()
    assert feats.grad.abs().sum() > 0
    if use_protos:
        assert torch.isfinite(protos.grad).all()


@pytest.mark.parametrize('strategy', STRATEGIES)
def test_invariant_to_label_and_sample_permutation(strategy):
    feats, labels, noise, protos = make_batch(5)
    loss_fn = SupConNoiseLoss(noise_strategy=strategy)
    base = loss_fn(feats, labels, noise, protos)
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        class_perm = torch.randperm(protos.size(1), generator=g)
        new_protos = torch.empty_like(protos)
        new_protos[:, class_perm] = protos  # class c is now class_perm[c]
        assert torch.allclose(
            loss_fn(feats, class_perm[labels], noise, new_protos), base,
            rtol=1e-5)
        order = torch.randperm(len(labels), generator=g)
        assert torch.allclose(
            loss_fn(feats[order], labels[order], noise[order], protos), base,
            rtol=1e-5)


def test_all_noise():
    feats, labels, _, protos = make_batch(6)
    feats.requires_grad_(True)
    noise = torch.ones(len(labels), dtype=torch.bool)
    for strategy in ('drop', 'negative_only'):
        loss = SupConNoiseLoss(noise_strategy=strategy)(feats, labels, noise)
        assert loss.item() == 0.0
        loss.backward()
        assert torch.equal(feats.grad, torch.zeros_like(feats))
    # With prototypes, 'drop' leaves the prototypes alone in the batch.
    loss = SupConNoiseLoss(noise_strategy='drop')(feats, labels, noise,
                                                  protos)
    assert loss.item() == pytest.approx(
        ref_loss(feats, labels, noise.tolist(), protos, 'drop'), rel=1e-4)
    # 'unique' on an all-noise batch: each point's only positive is itself.
    loss = SupConNoiseLoss(noise_strategy='unique')(feats, labels, noise)
    assert loss.item() == pytest.approx(
        ref_loss(feats, labels, noise.tolist(), None, 'unique'), rel=1e-4)


def test_registered_and_bad_args():
    loss_fn = MODELS.build(dict(type='SupConNoiseLoss', temperature=0.2,
                                noise_strategy='drop'))
    assert isinstance(loss_fn, SupConNoiseLoss)
    with pytest.raises(ValueError):
        SupConNoiseLoss(noise_strategy='ignore')
    with pytest.raises(ValueError):
        loss_fn(torch.randn(4, 8), torch.zeros(4, dtype=torch.long))
