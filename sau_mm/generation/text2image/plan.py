"""Stage 1, plan: how many synthetic images each class needs.

Class c needs the complement ``max(0, target - real_c)`` (target: the
largest real class unless given), times ``oversample`` (rounded up) when
the filter stage should have spare images to drop.
"""
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.logging import print_log
from PIL import Image

from ..complement import complement_counts, real_training_set
from .layout import PLAN, StageError, read_json, write_json


def compute_plan(classes: Sequence[str], real_counts: Sequence[int], *,
                 target_count: Optional[int] = None, oversample: float = 1.0,
                 resolution: Optional[int] = None,
                 dataset: Optional[dict] = None) -> dict:
    """The plan dict: ``classes``, ``real_counts``, ``target_count``,
    ``complement_counts``, ``needed_counts`` (complement * oversample, rounded
    up), ``total_needed``, ``oversample``, ``resolution``, ``dataset``."""
    classes, real_counts = list(classes), [int(n) for n in real_counts]
    if len(classes) != len(real_counts) or not classes:
        raise ValueError(f'{len(classes)} class names for {len(real_counts)} '
                         'real counts: they must match and not be empty.')
    target, complement, needed = complement_counts(
        real_counts, target_count, oversample)
    return dict(classes=classes, real_counts=real_counts,
                target_count=target, complement_counts=complement,
                needed_counts=needed, total_needed=sum(needed),
                oversample=oversample, resolution=resolution,
                dataset=dataset or {})


def build_real_dataset(config: str, cfg_options: Optional[dict] = None):
    """:func:`~sau_mm.generation.complement.real_training_set` of a config,
    its errors as :class:`StageError`."""
    try:
        return real_training_set(config, cfg_options)
    except ValueError as e:
        raise StageError(str(e)) from e


def real_image(dataset, index: int) -> np.ndarray:
    """Real sample ``index`` as an HxWx3 uint8 RGB array."""
    info = dataset.get_data_info(index)
    if 'img' in info:
        return np.asarray(info['img'])
    with Image.open(info['img_path']) as img:
        return np.asarray(img.convert('RGB'))


def infer_resolution(dataset) -> int:
    """Side of the (square) real images; an error for non-square data."""
    h, w = real_image(dataset, 0).shape[:2]
    if h != w:
        raise StageError(
            f'The real images are not square ({w}x{h}): pass --resolution '
            '(the paper used 256 for ImageNet-LT, 32 for CIFAR).')
    return int(h)


def plan_from_config(config: str, cfg_options: Optional[dict] = None, *,
                     target_count: Optional[int] = None,
                     oversample: float = 1.0,
                     resolution: Optional[int] = None) -> dict:
    """Plan for the training set of ``config`` (its ``target_count``, if set,
    is the default target; ``resolution`` defaults to the real images')."""
    dataset, ds_cfg, key = build_real_dataset(config, cfg_options)
    info = dict(
        config=osp.abspath(config), cfg_options=dict(cfg_options or {}),
        config_key=key,
        type=ds_cfg.get('type'), source=ds_cfg.get('source'),
        data_root=osp.abspath(ds_cfg.get('data_root')),
        split=ds_cfg.get('split', 'train'),
        imbalance_factor=ds_cfg.get('imbalance_factor'),
        subset_method=dataset.subset_method,
        subset_seed=ds_cfg.get('subset_seed', 0),
        num_real=int(sum(dataset.real_class_counts)))
    return compute_plan(
        dataset.metainfo['classes'], dataset.real_class_counts,
        target_count=target_count or ds_cfg.get('target_count'),
        oversample=oversample,
        resolution=resolution or infer_resolution(dataset), dataset=info)


def write_plan(out_dir: str, plan: dict) -> str:
    """Write ``out_dir/plan.json`` (atomic) and log the counts."""
    path = osp.join(out_dir, PLAN)
    write_json(path, plan)
    log_plan(plan)
    return path


def read_plan(out_dir: str) -> dict:
    """``out_dir/plan.json``."""
    return read_json(out_dir, PLAN)


def log_plan(plan: dict) -> None:
    """Per-class table: real, complement, needed."""
    ds = plan['dataset']
    lines = [f'Plan: {len(plan["classes"])} classes, '
             f'{sum(plan["real_counts"])} real images in, '
             f'{plan["total_needed"]} synthetic images to make (target '
             f'{plan["target_count"]} per class, oversample '
             f'{plan["oversample"]}, resolution {plan["resolution"]}; '
             f'dataset source={ds.get("source")} IF='
             f'{ds.get("imbalance_factor")} subset={ds.get("subset_method")} '
             f'seed={ds.get("subset_seed")})',
             f'  {"class":>5} {"name":24s} {"real":>7} {"complement":>10} '
             f'{"needed":>7}']
    for c, name in enumerate(plan['classes']):
        lines.append(f'  {c:5d} {name[:24]:24s} {plan["real_counts"][c]:7d} '
                     f'{plan["complement_counts"][c]:10d} '
                     f'{plan["needed_counts"][c]:7d}')
    print_log('\n'.join(lines), logger='current')

