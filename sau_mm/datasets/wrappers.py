"""The long-tailed dataset behind its wrappers, built or as a config.

A dataset wrapper (SAU's :class:`MixPartnerDataset`, MMEngine's
``ClassBalancedDataset``, ...) holds the dataset it wraps in ``.dataset``
(its config: in the key ``dataset``); the samples, class counts and data
settings live in the :class:`LongTailSyntheticDataset` at the end of that
chain.
"""
from typing import Optional, Tuple

LONG_TAIL_TYPE = 'LongTailSyntheticDataset'


def inner_dataset(dataset, has: str = 'real_class_counts'):
    """The first of ``dataset``, ``dataset.dataset``, ... with the attribute
    ``has`` (default: the long-tailed dataset's ``real_class_counts``);
    None when the chain ends without one."""
    while dataset is not None and not hasattr(dataset, has):
        dataset = getattr(dataset, 'dataset', None)
    return dataset


def long_tail_dataset_cfg(cfg, loader: str = 'train_dataloader'
                          ) -> Tuple[str, Optional[dict]]:
    """``(dotted key, config)`` of the LongTailSyntheticDataset of
    ``cfg[loader]``: ``<loader>.dataset``, or a wrapper's ``.dataset`` below
    it (e.g. ``train_dataloader.dataset.dataset`` under SAU's
    MixPartnerDataset); ``('<loader>.dataset', None)`` when there is none
    (no such loader, or no LongTailSyntheticDataset in it)."""
    key = f'{loader}.dataset'
    ds = (cfg.get(loader) or {}).get('dataset')
    path = key
    while isinstance(ds, dict) and ds.get('type') != LONG_TAIL_TYPE:
        ds, path = ds.get('dataset'), path + '.dataset'
    if not isinstance(ds, dict):
        return key, None
    return path, ds
