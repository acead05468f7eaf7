"""What every generator shares: the real long-tailed training set of a
config, how many images each class needs, and where image i of class c lives
in an output folder (with its seed)."""
import hashlib
import math
from typing import List, Optional, Sequence, Tuple, Union

from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS

from sau_mm.engine.image_folder_settings import apply_image_folder_settings

IMAGES_DIR = 'images'  # of every generator's output folder


def complement_counts(real_counts: Sequence[int],
                      target: Optional[int] = None,
                      oversample: float = 1.0
                      ) -> Tuple[int, List[int], List[int]]:
    """(target, complement, needed): complement_c = max(0, target - n_c) with
    ``target`` defaulting to the largest real class, needed_c =
    ceil(oversample * complement_c) (spare images for a filter)."""
    if oversample < 1:
        raise ValueError(f'oversample must be >= 1, got {oversample}.')
    target = int(target) if target else max(real_counts)
    if target < 1:
        raise ValueError(f'target count must be >= 1, got {target}.')
    complement = [max(0, target - int(n)) for n in real_counts]
    return target, complement, [math.ceil(oversample * n) for n in complement]


def real_training_set(config: Union[str, Config],
                      cfg_options: Optional[dict] = None,
                      pipeline: Sequence[dict] = ()):
    """(dataset, its config, its config key): the LongTailSyntheticDataset of
    ``train_dataloader.dataset`` (or of a wrapper's ``dataset``, e.g.
    MixPartnerDataset) with real images only (same source, IF and subset
    seed as training) and ``pipeline``."""
    return long_tail_training_set(config, cfg_options, pipeline,
                                  synthetic_manifest=None)


def long_tail_training_set(config: Union[str, Config],
                           cfg_options: Optional[dict] = None,
                           pipeline: Sequence[dict] = (),
                           **overrides):
    """:func:`real_training_set` with the dataset's own synthetic part,
    unless ``overrides`` (dataset settings, e.g. ``synthetic_manifest``)
    change it."""
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    apply_image_folder_settings(cfg, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    key, ds_cfg = 'train_dataloader.dataset', cfg.train_dataloader.dataset
    while ds_cfg.get('type') != 'LongTailSyntheticDataset' and \
            'dataset' in ds_cfg:
        key, ds_cfg = f'{key}.dataset', ds_cfg.dataset
    if ds_cfg.get('type') != 'LongTailSyntheticDataset':
        raise ValueError(
            f'{cfg.filename}: train_dataloader.dataset holds no '
            'LongTailSyntheticDataset (the real long-tailed set and its '
            'synthetic complement).')
    ds_cfg = ds_cfg.copy()
    ds_cfg.update(pipeline=list(pipeline), **overrides)
    return DATASETS.build(ds_cfg), ds_cfg, key


def image_relpath(label: int, index: int, ext: str = 'png') -> str:
    """Where image ``index`` of class ``label`` lives, relative to the
    output folder."""
    return f'{IMAGES_DIR}/{label}/{index:06d}.{ext}'


def image_seed(base_seed: int, label: int, index: int) -> int:
    """Deterministic per-image seed in [0, 2**63), independent of batching."""
    digest = hashlib.sha256(f'{base_seed}/{label}/{index}'.encode()).digest()
    return int.from_bytes(digest[:8], 'little') >> 1
