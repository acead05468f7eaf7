"""MixPartnerDataset: every sample comes with its mix partner."""
import operator

import torch

from mmcv.transforms import Compose
from mmpretrain.registry import DATASETS
from mmpretrain.structures import DataSample

from .transforms.sau_views import SAUView


@DATASETS.register_module()
class MixPartnerDataset:
    """Wrap a dataset so that each item also carries its mix partner.

    This is SAU's "second loader" of the authors' code
    (docs/method.md#mix-partner): the synthetic-unaware branch mixes view
    v1 of each sample with view v1 of its partner, and the partners of an
    epoch are an independent permutation of the same balanced (real +
    synthetic) set, zipped with the main order. The pairing comes from
    :class:`~sau_mm.datasets.MixPartnerSampler`, which yields
    ``(index, partner_index)``; set
    ``train_dataloader.sampler=dict(type='MixPartnerSampler')``. An item is
    only defined for such a pair: a plain int index raises ``TypeError``.

    The item's ``inputs`` is the wrapped pipeline's views (exactly
    ``SAUView.PARTNER`` of them, v1, v2, v3 in :class:`SAUView` order)
    followed by the partner's view (``partner_pipeline``, normally
    v1 + PackInputs) at position ``SAUView.PARTNER``; the partner's label and
    synthetic flag are stored in the data sample as ``partner_label`` and
    ``partner_is_synthetic``.

    Device data path: when the wrapped pipeline is
    :class:`~sau_mm.datasets.transforms.PackIndex` (``inputs`` a 0-d index
    tensor), ``inputs`` becomes ``tensor([index, partner_index])`` and
    ``partner_pipeline`` is not run: the data preprocessor draws all four
    views on the device. The partner fields are set the same way.
    """

    def __init__(self, dataset, partner_pipeline):
        self.dataset = DATASETS.build(dataset) if isinstance(dataset,
                                                             dict) else dataset
        self.partner_pipeline = Compose(partner_pipeline)
        self.metainfo = self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.dataset)

    def get_gt_labels(self):
        return self.dataset.get_gt_labels()

    def __getitem__(self, pair) -> dict:
        """The item of ``pair = (index, partner_index)``."""
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(
                'MixPartnerDataset is indexed by (index, partner_index) '
                f'pairs, got {pair!r}. Use '
                "sampler=dict(type='MixPartnerSampler') in train_dataloader.")
        idx, partner_idx = (operator.index(i) for i in pair)
        item = self.dataset[idx]
        info = self.dataset.get_data_info(partner_idx)  # a fresh copy
        sample = item['data_samples']
        sample.set_field(DataSample().set_gt_label(info['gt_label']).gt_label,
                         'partner_label')
        sample.set_field(bool(info['is_synthetic']), 'partner_is_synthetic')
        views = item['inputs']
        if isinstance(views, torch.Tensor) and views.dim() == 0:  # PackIndex
            item['inputs'] = torch.tensor([idx, partner_idx])
            return item
        views = list(views) if isinstance(views, (list, tuple)) else [views]
        n_views = int(SAUView.PARTNER)
        if len(views) != n_views:
            raise ValueError(
                f'The wrapped pipeline must give exactly {n_views} views '
                f'(v1, v2, v3 in SAUView order), got {len(views)}; the '
                f'partner view goes at position {n_views}.')
        item['inputs'] = views + [self.partner_pipeline(info)['inputs']]
        return item
