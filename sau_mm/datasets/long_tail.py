"""The exponential long-tail profile and the seeded subset that follows it.

n_c = int(n_max * IF ** (-c / (C - 1)))  for class c = 0..C-1 (METHOD.md, 1).
"""
from typing import List, Sequence

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


def select_long_tail(labels: Sequence[int], num_classes: int,
                     imbalance_factor: float, seed: int) -> np.ndarray:
    """Indices of a long-tailed subset: a seeded choice without replacement.

    n_max is the largest class of ``labels``. Each class c keeps
    ``long_tail_counts(...)[c]`` of its samples; the indices come back sorted,
    so the subset keeps the source order.
    """
    labels = np.asarray(labels)
    per_class = [np.flatnonzero(labels == c) for c in range(num_classes)]
    n_max = max(len(idx) for idx in per_class)
    targets = long_tail_counts(n_max, num_classes, imbalance_factor)
    rng = np.random.default_rng(seed)
    chosen = []
    for c, (idx, n_c) in enumerate(zip(per_class, targets)):
        if len(idx) < n_c:
            raise ValueError(
                f'Class {c} has {len(idx)} images, fewer than the {n_c} the '
                f'long-tail profile (IF={imbalance_factor}) asks for. Use a '
                'balanced source for the subset, or imbalance_factor=None.')
        chosen.append(rng.choice(idx, size=n_c, replace=False))
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, int)


def shot_group(num_real_train_images: int) -> str:
    """many (> 100), medium (20..100) or few (< 20) real training images."""
    if num_real_train_images > 100:
        return 'many'
    if num_real_train_images >= 20:
        return 'medium'
    return 'few'
