"""Samplers for long-tailed training: ClassBalancedSampler (class-balanced
re-sampling) and MixPartnerSampler (SAU's mix partners,
docs/method.md#mix-partner)."""
import math
from typing import Iterator, List, Optional, Sized, Tuple

import numpy as np
from mmengine.dataset import DefaultSampler
from mmengine.dist import get_dist_info, sync_random_seed
from mmpretrain.registry import DATA_SAMPLERS
from torch.utils.data import Sampler


@DATA_SAMPLERS.register_module()
class ClassBalancedSampler(Sampler):
    """Class-balanced re-sampling, with replacement.

    Each draw picks a class uniformly among the classes that have samples
    (classes with no samples are skipped), then one of its samples uniformly:
    P(i) = 1 / (K * n_{y_i}) for K non-empty classes. One epoch is
    ``num_samples`` draws (default ``len(dataset)``), rounded up to a
    multiple of the world size; like mmengine's ``DefaultSampler``, every rank
    takes the positions ``rank::world_size`` of the same draw, so each gets
    ``ceil(num_samples / world_size)`` indices. The draw depends only on
    (seed, epoch): call :meth:`set_epoch` (mmengine's loops do) for a new
    draw each epoch. Labels come from ``dataset.get_gt_labels()``.

    Args:
        dataset (Sized): an MMPretrain dataset (``get_gt_labels``).
        shuffle (bool): kept for drop-in use in place of ``DefaultSampler``;
            must be True (the draw is random by construction; use
            ``DefaultSampler(shuffle=False)`` for a fixed order).
        seed (int, optional): same on every rank; None -> ``sync_random_seed``.
        num_samples (int, optional): draws per epoch over all ranks.
    """

    def __init__(self,
                 dataset: Sized,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 num_samples: Optional[int] = None) -> None:
        if not shuffle:
            raise ValueError(
                'ClassBalancedSampler draws at random by construction; '
                'shuffle=False is not supported (use DefaultSampler with '
                'shuffle=False for a fixed order).')
        labels = np.asarray(dataset.get_gt_labels())
        if labels.size == 0:
            raise ValueError('ClassBalancedSampler got an empty dataset.')
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0
        order = np.argsort(labels, kind='stable')
        _, starts, counts = np.unique(
            labels[order], return_index=True, return_counts=True)
        self._order = order
        self._starts = starts
        self._counts = counts
        size = len(labels) if num_samples is None else num_samples
        if size < 1:
            raise ValueError(f'num_samples must be >= 1, got {size}.')
        self.num_samples = math.ceil(size / self.world_size)
        self.total_size = self.num_samples * self.world_size

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng((self.seed, self.epoch))
        cls = rng.integers(len(self._counts), size=self.total_size)
        within = rng.integers(self._counts[cls])
        indices = self._order[self._starts[cls] + within]
        return iter(indices[self.rank::self.world_size].tolist())

    def __len__(self) -> int:
        """Indices of this rank."""
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch


@DATA_SAMPLERS.register_module()
class MixPartnerSampler(DefaultSampler):
    """Yield ``(index, partner_index)`` pairs for
    :class:`~sau_mm.datasets.MixPartnerDataset`.

    SAU's authors zip the main shuffled loader with a second loader over the
    same balanced set, shuffled independently (docs/method.md#mix-partner).
    Equivalently, epoch ``e`` has a main permutation ``p1`` and an
    independent partner permutation ``p2`` of ``range(len(dataset))``, and
    position ``k`` of the epoch pairs ``p1[k]`` with ``p2[k]``: within an
    epoch every sample is used exactly once as a partner.

    The main order is mmengine's ``DefaultSampler`` (this class extends it:
    same seeding, ``set_epoch``, round-up and rank split). The partner order
    is always shuffled (the second loader is), from its own stream
    ``np.random.default_rng((seed, epoch, 1))``, rounded up and split over
    ranks the same way, so pairs never split across ranks. The pairs depend
    only on (seed, epoch): a resumed run continues exactly with no RNG state
    to save, also with persistent data workers (the sampler runs in the main
    process).

    Use it as ``train_dataloader.sampler=dict(type='MixPartnerSampler')``.

    Args: as ``DefaultSampler`` (``dataset`` is the MixPartnerDataset;
    ``shuffle`` concerns the main order only; ``seed`` must be >= 0).
    """

    def __init__(self, dataset: Sized, shuffle: bool = True,
                 seed: Optional[int] = None, round_up: bool = True) -> None:
        if len(dataset) == 0:
            raise ValueError('MixPartnerSampler got an empty dataset.')
        super().__init__(dataset, shuffle=shuffle, seed=seed,
                         round_up=round_up)
        if self.seed < 0:
            raise ValueError(f'seed must be non-negative, got {self.seed}.')

    def _partner_order(self) -> List[int]:
        """This rank's share of the epoch's partner permutation, rounded up
        and split like the main order."""
        order = np.random.default_rng((self.seed, self.epoch, 1)).permutation(
            len(self.dataset)).tolist()
        if self.round_up:
            order = (order * (self.total_size // len(order) + 1)
                     )[:self.total_size]
        return order[self.rank:self.total_size:self.world_size]

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        return zip(super().__iter__(), self._partner_order())
