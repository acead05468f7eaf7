import numpy as np
import pytest

from sau_mm.datasets.long_tail import (long_tail_counts, select_long_tail,
                                       shot_group)

# METHOD.md section 1 totals.
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


def test_selection_is_seeded_per_class_and_without_replacement():
    labels = np.repeat(np.arange(5), 100)
    rng = np.random.default_rng(0)
    rng.shuffle(labels)
    a = select_long_tail(labels, 5, 10, seed=3)
    b = select_long_tail(labels, 5, 10, seed=3)
    c = select_long_tail(labels, 5, 10, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert len(np.unique(a)) == len(a)
    assert np.bincount(labels[a]).tolist() == long_tail_counts(100, 5, 10)
