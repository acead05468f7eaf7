import sau_mm  # noqa: F401  (compat fixes before mmpretrain)
import numpy as np
import pytest
from mmpretrain.registry import DATA_SAMPLERS

from sau_mm.datasets import samplers
from sau_mm.datasets.samplers import ClassBalancedSampler


class FakeDataset:
    """Labels only, like an MMPretrain BaseDataset for the sampler."""

    def __init__(self, labels):
        self.labels = np.asarray(labels, dtype=np.int64)

    def __len__(self):
        return len(self.labels)

    def get_gt_labels(self):
        return self.labels


def imbalanced(counts=(1000, 100, 10, 1)):
    return FakeDataset(np.repeat(np.arange(len(counts)), counts))


def test_class_frequencies_are_uniform():
    dataset = imbalanced()
    sampler = ClassBalancedSampler(dataset, seed=0, num_samples=20000)
    indices = list(sampler)
    assert len(indices) == len(sampler) == 20000
    freq = np.bincount(dataset.labels[indices], minlength=4) / len(indices)
    np.testing.assert_allclose(freq, 0.25, atol=0.015)
    # uniform within a class: the 10 samples of class 2 all show up evenly
    within = np.bincount(np.asarray(indices)[dataset.labels[indices] == 2])
    within = within[within > 0]
    assert len(within) == 10
    assert within.min() > 0.6 * within.mean()


def test_empty_classes_are_skipped_and_default_length():
    dataset = FakeDataset([0] * 50 + [3] * 5)  # classes 1, 2 empty
    sampler = ClassBalancedSampler(dataset, seed=1)
    indices = list(sampler)
    assert len(indices) == len(dataset) == 55
    assert set(dataset.labels[indices]) == {0, 3}


def test_deterministic_per_seed_and_epoch():
    dataset = imbalanced()
    a = ClassBalancedSampler(dataset, seed=3)
    b = ClassBalancedSampler(dataset, seed=3)
    assert list(a) == list(b)
    assert list(a) == list(a)  # iterating does not advance anything
    epoch0 = list(a)
    a.set_epoch(1)
    b.set_epoch(1)
    assert list(a) == list(b) != epoch0
    a.set_epoch(0)
    assert list(a) == epoch0
    assert list(ClassBalancedSampler(dataset, seed=4)) != epoch0


def test_ranks_shard_the_same_order(monkeypatch):
    dataset = imbalanced((30, 7, 2))  # 39 samples, odd on 2 ranks

    def build(rank, world, num_samples=None):
        monkeypatch.setattr(samplers, 'get_dist_info', lambda: (rank, world))
        sampler = ClassBalancedSampler(dataset, seed=7,
                                       num_samples=num_samples)
        sampler.set_epoch(2)
        return sampler

    shards = [list(build(r, 2)) for r in range(2)]
    assert [len(s) for s in shards] == [20, 20]  # ceil(39 / 2) each
    order = list(build(0, 1, num_samples=40))  # the whole draw, one process
    assert shards[0] == order[0::2] and shards[1] == order[1::2]


def test_errors_and_registry():
    with pytest.raises(ValueError, match='empty dataset'):
        ClassBalancedSampler(FakeDataset([]), seed=0)
    with pytest.raises(ValueError, match='shuffle=False'):
        ClassBalancedSampler(imbalanced(), shuffle=False, seed=0)
    sampler = DATA_SAMPLERS.build(
        dict(type='ClassBalancedSampler', num_samples=8),
        default_args=dict(dataset=imbalanced(), seed=None))
    assert len(list(sampler)) == 8 and isinstance(sampler.seed, int)
