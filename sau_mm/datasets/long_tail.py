"""The exponential long-tail profile and the seeded subset that follows it.

n_c = int(n_max * IF ** (-c / (C - 1)))  for class c = 0..C-1
(docs/method.md#the-long-tailed-split).
The subset defaults to LDAM-DRW's split (``method='ldam'``, seed 0).
"""
from typing import List, Optional, Sequence

import numpy as np

SHOT_GROUPS = ('many', 'medium', 'few')


def long_tail_counts(n_max: int, num_classes: int,
                     imbalance_factor: float) -> List[int]:
    """Per-class counts of the exponential profile."""
    if imbalance_factor < 1:
        raise ValueError(
            f'imbalance_factor must be >= 1 (n_max / n_min), got '
            f'{imbalance_factor}. Use 10, 50, 100 or 200 for CIFAR-LT, or '
            'imbalance_factor=None for data that is already long-tailed.')
    if num_classes == 1:
        return [int(n_max)]
    return [
        int(n_max * imbalance_factor**(-c / (num_classes - 1)))
        for c in range(num_classes)
    ]


SUBSET_METHODS = ('ldam', 'seeded_choice')


def select_long_tail(labels: Sequence[int], num_classes: int,
                     imbalance_factor: float, seed: int = 0,
                     method: str = 'ldam') -> np.ndarray:
    """Indices of a long-tailed subset of ``labels``.

    n_max is the largest class of ``labels``. Each class c keeps
    ``long_tail_counts(n_max, num_classes, imbalance_factor)[c]`` of its
    samples; the indices come back sorted, so the subset keeps the source
    order. Which samples, by ``method``:

    - ``'ldam'`` (default): LDAM-DRW's split (Cao et al. 2019,
      IMBALANCECIFAR10/100), the one most long-tail papers use:
      ``np.random.seed(seed)`` once, then for c = 0..C-1 in order, shuffle
      the indices of class c (in source order) with ``np.random.shuffle``
      and keep the first n_c. Drawn from a local
      ``np.random.RandomState(seed)`` (the same stream), so the global numpy
      RNG is left untouched. With seed 0 this is the standard CIFAR-LT split.
    - ``'seeded_choice'``: per class, in order,
      ``np.random.default_rng(seed).choice(idx, n_c, replace=False)``
      (this package's earlier default).
    """
    if method not in SUBSET_METHODS:
        raise ValueError(f'subset method must be one of {SUBSET_METHODS}, '
                         f'got {method!r}.')
    labels = np.asarray(labels)
    per_class = [np.flatnonzero(labels == c) for c in range(num_classes)]
    n_max = max(len(idx) for idx in per_class)
    targets = long_tail_counts(n_max, num_classes, imbalance_factor)
    for c, (idx, n_c) in enumerate(zip(per_class, targets)):
        if len(idx) < n_c:
            raise ValueError(
                f'Class {c} has {len(idx)} images, fewer than the {n_c} the '
                f'long-tail profile (IF={imbalance_factor}) asks for. Use a '
                'balanced source for the subset, or imbalance_factor=None.')
    chosen = []
    if method == 'ldam':
        rs = np.random.RandomState(seed)
        for idx, n_c in zip(per_class, targets):
            idx = idx.copy()
            rs.shuffle(idx)
            chosen.append(idx[:n_c])
    else:
        rng = np.random.default_rng(seed)
        for idx, n_c in zip(per_class, targets):
            chosen.append(rng.choice(idx, size=n_c, replace=False))
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, int)


# many: more than `many_above` real training images; few: fewer than
# `few_below`; medium: the rest (the usual CIFAR-LT / ImageNet-LT split).
DEFAULT_SHOT_THRESHOLDS = dict(many_above=100, few_below=20)


def check_shot_thresholds(thresholds: Optional[dict]) -> dict:
    """``dict(many_above=M, few_below=F)`` completed with the defaults and
    checked (F <= M + 1, so the groups never overlap)."""
    unknown = set(thresholds or {}) - set(DEFAULT_SHOT_THRESHOLDS)
    if unknown:
        raise ValueError(
            f'shot_thresholds takes {sorted(DEFAULT_SHOT_THRESHOLDS)}, got '
            f'{sorted(unknown)}.')
    out = dict(DEFAULT_SHOT_THRESHOLDS, **(thresholds or {}))
    if out['few_below'] > out['many_above'] + 1:
        raise ValueError(
            f'shot_thresholds: few_below={out["few_below"]} is above '
            f'many_above={out["many_above"]} + 1, so a class would be both '
            'many and few.')
    return out


def shot_group(num_real_train_images: int, many_above: int = 100,
               few_below: int = 20) -> str:
    """many (> many_above), medium (few_below..many_above) or few
    (< few_below) real training images; defaults > 100, 20..100, < 20."""
    if num_real_train_images > many_above:
        return 'many'
    if num_real_train_images >= few_below:
        return 'medium'
    return 'few'


def shot_group_rule(group: str, many_above: int = 100,
                    few_below: int = 20) -> str:
    """The rule of a group in words, e.g. '> 100 real training images'."""
    return {'many': f'> {many_above}',
            'medium': f'{few_below}..{many_above}',
            'few': f'< {few_below}'}[group] + ' real training images'
