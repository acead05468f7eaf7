import numpy as np
import pytest

from sau_mm.datasets.long_tail import (long_tail_counts, select_long_tail,
                                       shot_group)

# The totals of docs/method.md#the-long-tailed-split.
CIFAR10_TOTALS = {10: 20431, 50: 13996, 100: 12406, 200: 11203}
CIFAR100_TOTALS = {10: 19573, 50: 12608, 100: 10847, 200: 9502}


@pytest.mark.parametrize('imbalance_factor', [10, 50, 100, 200])
def test_cifar_lt_totals_match_the_formula_and_paper(imbalance_factor):
    c10 = long_tail_counts(5000, 10, imbalance_factor)
    c100 = long_tail_counts(500, 100, imbalance_factor)
    assert sum(c10) == CIFAR10_TOTALS[imbalance_factor]
    assert sum(c100) == CIFAR100_TOTALS[imbalance_factor]
    for c, n in enumerate(c10):
        assert n == int(5000 * imbalance_factor**(-c / 9))
    assert c10[0] == 5000 and c100[0] == 500


def test_cifar10_if100_per_class_and_cifar100_groups():
    assert long_tail_counts(5000, 10, 100) == [
        5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    groups = [shot_group(n) for n in long_tail_counts(500, 100, 100)]
    assert (groups.count('many'), groups.count('medium'),
            groups.count('few')) == (35, 35, 30)


def test_shot_group_boundaries():
    assert [shot_group(n) for n in (101, 100, 20, 19)] == [
        'many', 'medium', 'medium', 'few']


def test_imbalance_factor_below_one_is_rejected():
    with pytest.raises(ValueError, match='imbalance_factor must be >= 1'):
        long_tail_counts(500, 10, 0.5)


@pytest.mark.parametrize('method', ['ldam', 'seeded_choice'])
def test_selection_is_seeded_per_class_and_without_replacement(method):
    labels = np.repeat(np.arange(5), 100)
    rng = np.random.default_rng(0)
    rng.shuffle(labels)
    a = select_long_tail(labels, 5, 10, seed=3, method=method)
    b = select_long_tail(labels, 5, 10, seed=3, method=method)
    c = select_long_tail(labels, 5, 10, seed=4, method=method)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert len(np.unique(a)) == len(a)
    assert np.all(np.diff(a) > 0)  # sorted: the subset keeps source order
    assert np.bincount(labels[a]).tolist() == long_tail_counts(100, 5, 10)


def ldam_drw_reference(labels, num_classes, imbalance_factor, seed=0):
    """LDAM-DRW's IMBALANCECIFAR gen_imbalanced_data, written as it is:
    global np.random.seed, np.random.shuffle per class in order (the global
    RNG state is restored afterwards)."""
    state = np.random.get_state()
    try:
        labels = np.asarray(labels)
        n_max = max(np.sum(labels == c) for c in range(num_classes))
        np.random.seed(seed)
        keep = []
        for c in range(num_classes):
            n_c = int(n_max * imbalance_factor**(-c / (num_classes - 1)))
            idx = np.where(labels == c)[0]
            np.random.shuffle(idx)
            keep.extend(idx[:n_c].tolist())
        return np.sort(keep)
    finally:
        np.random.set_state(state)


@pytest.mark.parametrize('seed', [0, 3407])
def test_default_is_the_ldam_drw_split(seed):
    labels = np.repeat(np.arange(10), 200)
    np.random.default_rng(1).shuffle(labels)  # interleaved, as CIFAR
    ref = ldam_drw_reference(labels, 10, 100, seed)
    default = select_long_tail(labels, 10, 100, seed)
    np.testing.assert_array_equal(default, ref)
    np.testing.assert_array_equal(
        select_long_tail(labels, 10, 100, seed, method='ldam'), ref)
    choice = select_long_tail(labels, 10, 100, seed, method='seeded_choice')
    assert np.bincount(labels[choice]).tolist() == \
        np.bincount(labels[ref]).tolist()
    assert not np.array_equal(choice, ref)


def test_default_seed_is_zero_and_global_rng_is_untouched():
    labels = np.repeat(np.arange(4), 50)
    np.random.default_rng(2).shuffle(labels)
    np.random.seed(123)
    expected_next = np.random.RandomState(123).random_sample(3)
    np.testing.assert_array_equal(select_long_tail(labels, 4, 10),
                                  ldam_drw_reference(labels, 4, 10, 0))
    np.testing.assert_array_equal(np.random.random_sample(3), expected_next)


@pytest.mark.parametrize('method', ['ldam', 'seeded_choice'])
def test_cifar10_lt_if100_counts_from_labels(method):
    labels = np.repeat(np.arange(10), 5000)
    np.random.default_rng(0).shuffle(labels)
    keep = select_long_tail(labels, 10, 100, 0, method=method)
    assert np.bincount(labels[keep], minlength=10).tolist() == [
        5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    assert len(keep) == CIFAR10_TOTALS[100]


def test_unknown_method_is_rejected():
    with pytest.raises(ValueError,
                       match=r"one of \('ldam', 'seeded_choice'\)"):
        select_long_tail(np.repeat(np.arange(3), 5), 3, 2, method='random')
