import math

import sau_mm  # noqa: F401  (compat fixes before mmpretrain)
import pytest
import torch

from sau_mm.models.utils import knn_clean_mask


def pt(deg):
    """Unit 2-D vector at angle ``deg``."""
    return [math.cos(math.radians(deg)), math.sin(math.radians(deg))]


def batch(rows):
    """rows: (label, synthetic, view-0 angle, view-1 angle)."""
    feats = torch.tensor([[pt(a0), pt(a1)] for _, _, a0, a1 in rows])
    labels = torch.tensor([r[0] for r in rows])
    syn = torch.tensor([r[1] for r in rows])
    return feats, labels, syn


def test_obvious_cases_and_both_views_rule():
    feats, labels, syn = batch([
        (0, False, 0, 0),     # real class 0 at 0 deg
        (1, False, 90, 90),   # real class 1 at 90 deg
        (0, False, 80, 80),   # real, wrong-looking: stays clean
        (0, True, 10, 5),     # synthetic near class 0 in both views: clean
        (0, True, 100, 95),   # synthetic near class 1 in both views: noise
        (0, True, 10, 95),    # view 1 disagrees: noise
        (1, True, 5, 92),     # view 0 disagrees: noise
        (1, True, 95, 91),    # clean
    ])
    clean = knn_clean_mask(feats, labels, syn)
    assert clean.tolist() == [True, True, True, True, False, False, False,
                              True]


def test_prototypes_are_neighbours():
    feats, labels, syn = batch([
        (0, False, 0, 0),
        (1, False, 90, 90),
        (2, True, 175, 170),  # class 2 has no real sample in the batch
        (0, True, 20, 20),
    ])
    assert knn_clean_mask(feats, labels, syn).tolist() == [
        True, True, False, True]
    protos = torch.tensor([[pt(0), pt(90), pt(180)],
                           [pt(0), pt(90), pt(180)]])
    assert knn_clean_mask(feats, labels, syn, prototypes=protos).tolist() \
        == [True, True, True, True]
    # A view-specific prototype: in view 1 class 2's prototype is far away.
    protos[1, 2] = torch.tensor(pt(270))
    assert knn_clean_mask(feats, labels, syn, prototypes=protos).tolist() \
        == [True, True, False, True]


def test_synthetic_samples_are_never_neighbours():
    feats, labels, syn = batch([
        (0, False, 0, 0),
        (1, False, 180, 180),
        (1, True, 30, 30),   # two identical synthetic class-1 samples far
        (1, True, 30, 30),   # from the real class 1, near the real class 0
    ])
    assert knn_clean_mask(feats, labels, syn).tolist() == [
        True, True, False, False]
    # Only synthetic samples and no prototypes: empty bank -> clean.
    _, _, all_syn = batch([(0, True, 0, 0)] * 4)
    assert knn_clean_mask(feats, labels, all_syn).all()


def test_k3_majority():
    feats, labels, syn = batch([
        (1, False, 10, 10),   # nearest to the synthetic sample
        (0, False, 25, 25),
        (0, False, 30, 30),
        (1, False, 170, 170),
        (0, True, 0, 0),
    ])
    assert knn_clean_mask(feats, labels, syn, k=1).tolist()[-1] is False
    assert knn_clean_mask(feats, labels, syn, k=3).tolist()[-1] is True
    # k larger than the bank: all 4 reals vote, 2 vs 2; the tie goes to the
    # label of the nearest tied member (class 1) -> noise.
    assert knn_clean_mask(feats, labels, syn, k=10).tolist()[-1] is False


def test_external_bank_and_cosine():
    feats, labels, syn = batch([(0, False, 0, 0), (1, True, 50, 50)])
    feats = feats * torch.tensor([1.0, 7.0])[:, None, None]  # cosine only
    assert knn_clean_mask(feats, labels, syn).tolist() == [True, False]
    shared = torch.tensor([pt(60)]) * 3
    assert knn_clean_mask(feats, labels, syn, bank_feats=shared,
                          bank_labels=torch.tensor([1])).tolist() == [
                              True, True]
    per_view = torch.tensor([[pt(60)], [pt(200)]])
    assert knn_clean_mask(feats, labels, syn, bank_feats=per_view,
                          bank_labels=torch.tensor([1])).tolist() == [
                              True, False]
    empty = torch.zeros(2, 0, 2)
    assert knn_clean_mask(feats, labels, syn, bank_feats=empty,
                          bank_labels=torch.zeros(0, dtype=torch.long)
                          ).tolist() == [True, False]
    with pytest.raises(ValueError):
        knn_clean_mask(feats, labels, syn, k=0)
