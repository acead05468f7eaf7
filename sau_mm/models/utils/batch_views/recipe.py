"""The CPU view recipe as batch ops: one recipe, two paths.

The views are written once, as CPU transform configs
(``configs/_base_/datasets/sau_cifar_views.py``, a dataset base's
``train_pipeline``); the device path draws the same lists with the batch op
of each transform, its parameters copied (:func:`batch_ops`), so a crop
size, Cutout length or blur setting changed in the recipe reaches both.
"""
import os.path as osp
from typing import Dict, List, Sequence

from mmpretrain.registry import BATCH_AUGMENTS

from sau_mm.datasets.transforms.sizing import size_pipeline
from .transforms import BatchCompose

VIEWS_CONFIG = osp.join(
    osp.dirname(osp.abspath(__file__)), '..', '..', '..', '..', 'configs',
    '_base_', 'datasets', 'sau_cifar_views.py')
# CPU transform -> its batch op, taking the same keyword arguments (plus
# img_size where the op needs the input side); RandomCrop and RandomFlip
# are handled together (BatchRandomCropFlip)
SAME_ARGS = {
    'CIFAR10AutoAugment': ('BatchCIFAR10AutoAugment', False),
    'SAUCutout': ('BatchCutout', True),
    'SimAugment': ('BatchSimAugment', True),
}


def _args(t: dict) -> dict:
    return {k: v for k, v in t.items() if k != 'type'}


def _crop_flip(crop: dict, flip: dict, img_size: int) -> dict:
    """RandomCrop and/or RandomFlip (horizontal) as BatchRandomCropFlip."""
    crop = dict(crop or dict(type='RandomCrop', crop_size=img_size))
    flip = dict(flip or dict(type='RandomFlip', prob=0.0))
    unsupported = {k: v for k, v in dict(
        pad_if_needed=crop.get('pad_if_needed', False),
        padding_mode=crop.get('padding_mode', 'constant'),
        direction=flip.get('direction', 'horizontal')).items()
        if v not in (False, 'constant', 'horizontal')}
    if unsupported:
        raise ValueError(f'No batch op for {crop["type"]}/{flip["type"]} '
                         f'with {unsupported}: BatchRandomCropFlip pads with '
                         'a constant and flips horizontally.')
    return dict(type='BatchRandomCropFlip', crop_size=crop['crop_size'],
                padding=crop.get('padding') or 0, prob=flip.get('prob') or 0.0,
                img_size=img_size, pad_val=crop.get('pad_val', 0))


def batch_ops(transforms: Sequence[dict], img_size: int) -> List[dict]:
    """The batch-op configs (``BATCH_AUGMENTS``) that draw the view
    ``transforms`` (CPU transform configs) on ``img_size`` x ``img_size``
    images: RandomCrop [+ RandomFlip] -> BatchRandomCropFlip,
    CIFAR10AutoAugment -> BatchCIFAR10AutoAugment, SAUCutout -> BatchCutout,
    SimAugment -> BatchSimAugment, each with the transform's parameters;
    batch-op configs are kept as they are. Any other transform: ValueError
    naming it."""
    out, i = [], 0
    transforms = list(transforms)
    while i < len(transforms):
        t = transforms[i]
        kind = t.get('type')
        if kind in ('RandomCrop', 'RandomFlip'):
            flip_next = (kind == 'RandomCrop' and i + 1 < len(transforms)
                         and transforms[i + 1].get('type') == 'RandomFlip')
            crop = t if kind == 'RandomCrop' else None
            flip = transforms[i + 1] if flip_next else (
                t if kind == 'RandomFlip' else None)
            out.append(_crop_flip(crop, flip, img_size))
            i += 2 if flip_next else 1
            continue
        if kind in SAME_ARGS:
            op, sized = SAME_ARGS[kind]
            out.append(dict(type=op, **_args(t),
                            **(dict(img_size=img_size) if sized else {})))
        elif kind in BATCH_AUGMENTS:
            out.append(dict(t))
        else:
            raise ValueError(
                f'The device data path has no batch op for the transform '
                f'{kind!r}: it draws RandomCrop, RandomFlip, '
                f'{", ".join(SAME_ARGS)} and BATCH_AUGMENTS ops. Train this '
                'pipeline on the CPU path (the config without _device).')
        i += 1
    return out


def sau_batch_views(img_size: int = 32) -> Dict[str, BatchCompose]:
    """SAU's views v1, v2, v3 of ``configs/_base_/datasets/sau_cifar_views.py``
    sized to ``img_size`` (:func:`~sau_mm.datasets.transforms.sizing.
    size_pipeline`) as batch ops (the benchmark's and the tests' views)."""
    from mmengine.config import Config
    cfg = Config.fromfile(VIEWS_CONFIG)
    views = {}
    for k in ('1', '2', '3'):
        view = [dict(t) for t in cfg['view' + k]]
        size_pipeline(view, img_size)
        views['v' + k] = BatchCompose(batch_ops(view, img_size))
    return views
