"""Stage 1, plan: how many synthetic images each class needs.

Class c needs the complement ``max(0, target - real_c)`` (target: the
largest real class unless given), times ``oversample`` (rounded up) when
the filter stage should have spare images to drop.
"""
import math
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.config import Config
from mmengine.logging import print_log
from mmpretrain.registry import DATASETS
from PIL import Image

from .layout import PLAN, StageError, read_json, write_json


def compute_plan(classes: Sequence[str], real_counts: Sequence[int],
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
    if oversample < 1:
        raise ValueError(f'oversample must be >= 1, got {oversample}.')
    target = int(target_count) if target_count else max(real_counts)
    if target < 1:
        raise ValueError(f'target_count must be >= 1, got {target}.')
    complement = [max(0, target - n) for n in real_counts]
    needed = [math.ceil(n * oversample) for n in complement]
    return dict(classes=classes, real_counts=real_counts,
                target_count=target, complement_counts=complement,
                needed_counts=needed, total_needed=sum(needed),
                oversample=oversample, resolution=resolution,
                dataset=dataset or {})


def build_real_dataset(config: str, cfg_options: Optional[dict] = None):
    """(dataset, its config, its config key): the LongTailSyntheticDataset
    of ``train_dataloader.dataset`` (or of a wrapper's ``dataset``, e.g.
    MixPartnerDataset), built with real images only."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    key, ds_cfg = 'train_dataloader.dataset', cfg.train_dataloader.dataset
    while ds_cfg.get('type') != 'LongTailSyntheticDataset' and \
            'dataset' in ds_cfg:
        key, ds_cfg = f'{key}.dataset', ds_cfg.dataset
    if ds_cfg.get('type') != 'LongTailSyntheticDataset':
        raise StageError(
            f'{config}: train_dataloader.dataset holds no '
            'LongTailSyntheticDataset, which the plan needs.')
    ds_cfg = ds_cfg.copy()
    ds_cfg.synthetic_manifest = None
    ds_cfg.pipeline = []
    return DATASETS.build(ds_cfg), ds_cfg, key


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


def plan_from_config(config: str, cfg_options: Optional[dict] = None,
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
        subset_seed=ds_cfg.get('subset_seed', 0),
        num_real=int(sum(dataset.real_class_counts)))
    return compute_plan(
        dataset.metainfo['classes'], dataset.real_class_counts,
        target_count or ds_cfg.get('target_count'), oversample,
        resolution or infer_resolution(dataset), info)


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
             f'{ds.get("imbalance_factor")} seed={ds.get("subset_seed")})',
             f'  {"class":>5} {"name":24s} {"real":>7} {"complement":>10} '
             f'{"needed":>7}']
    for c, name in enumerate(plan['classes']):
        lines.append(f'  {c:5d} {name[:24]:24s} {plan["real_counts"][c]:7d} '
                     f'{plan["complement_counts"][c]:10d} '
                     f'{plan["needed_counts"][c]:7d}')
    print_log('\n'.join(lines), logger='current')

