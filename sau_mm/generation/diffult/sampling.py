"""Sample the DiffuLT complement: fill every class up to a target count.

Plan: class c gets ``ceil(oversample * max(0, target - real_c))`` images,
``target`` defaulting to the largest real class. Image i of class c is
``images/<c>/<i:06d>.png`` with seed ``image_seed(seed, c, i)`` (its own
generator for all its noise); both rules are
:mod:`sau_mm.generation.complement`'s, shared with the text-to-image stages.
Bit-identical whatever the batch composition: float kernels (convolutions,
matrix products) round differently for different batch shapes and rows, so
the UNet always runs on exactly ``batch_size`` rows and image (c, i) always
sits in row :func:`image_row` (empty rows are padding). An image regenerated
alone after a kill is then the image of the uninterrupted run, bit for bit:
same ``batch_size``, byte-identical images whatever the batch composition;
a different ``batch_size`` can change a few pixel values by 1 (a rerun with
another one warns). Images are written atomically (temp file +
``os.replace``); a rerun skips images already on disk and readable, so an
interrupted run resumes. ``sampling.json`` records the settings; a rerun
with other settings into the same folder is refused.
The manifest (``manifest.jsonl``, source ``'diffult'``) lists every planned
image and is written at the end.
"""
import json
import os.path as osp
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.utils import ProgressBar
from mmpretrain.registry import MODELS
from PIL import Image

from sau_mm.datasets.manifest import ManifestRecord, write_manifest
from sau_mm.utils.fileio import atomic_path, atomic_write_json

from ..complement import complement_counts, image_relpath, image_seed
from ..diffult_layout import MANIFEST, SAMPLING


def is_valid_image(path: str, size) -> bool:
    """A decodable RGB PNG of (W, H) ``size``."""
    try:
        with Image.open(path) as img:
            img.load()
            return img.mode == 'RGB' and img.size == tuple(size)
    except (OSError, ValueError):
        return False


def save_png_atomic(array, path: str) -> None:
    with atomic_path(path) as tmp:
        Image.fromarray(array).save(tmp, format='PNG')


class GeneratorMismatch(ValueError):
    """A generator checkpoint that does not fit the config it is sampled
    with; the message names the setting to change."""


def _setting(cfg, key: str, generic: str) -> str:
    """The key a user sets: ``image_folder.<key>`` in image-folder configs,
    else the model key."""
    return f'image_folder.{key}' if cfg.get('image_folder') else generic


def check_generator_checkpoint(cfg, checkpoint: str) -> None:
    """Raise :class:`GeneratorMismatch` when the config's class count (rows
    of the checkpoint's ``unet.class_embedding``: C + 1, the null class) or
    image size (``model.unet.sample_size`` of the config saved in the
    checkpoint's meta) is not the checkpoint's: a UNet samples any size
    without complaint, and a class count mismatch would otherwise surface as
    torch's state-dict size mismatch."""
    ckpt = torch.load(checkpoint, map_location='cpu', weights_only=False,
                      mmap=True)
    state = ckpt.get('state_dict', ckpt)
    emb = next((v for k, v in state.items()
                if k.endswith('unet.class_embedding.weight')), None)
    todo = ('Give the --cfg-options of its training run (or its dumped '
            'config).')
    wanted = cfg.model.num_classes
    if emb is not None and emb.shape[0] - 1 != wanted:
        key = _setting(cfg, 'num_classes', 'model.num_classes')
        raise GeneratorMismatch(
            f'Class count mismatch: the generator {checkpoint} was trained '
            f'on {emb.shape[0] - 1} classes, this config gives {wanted} '
            f'({key}). {todo}')
    saved = (ckpt.get('meta') or {}).get('cfg')
    if not isinstance(saved, str):
        return  # no training config saved: the size cannot be checked
    trained = Config.fromstring(saved, '.py').model.unet.get('sample_size')
    size = cfg.model.unet.get('sample_size')
    if trained is not None and list(np.atleast_1d(trained)) != \
            list(np.atleast_1d(size)):
        key = _setting(cfg, 'image_size', 'model.unet.sample_size')
        raise GeneratorMismatch(
            f'Image size mismatch: the generator {checkpoint} was trained on '
            f'{_size(trained)} images (model.unet.sample_size in its '
            f'config), this config samples {_size(size)} ({key}={size}). '
            f'Set {key}={trained}, as in its training run. {todo}')


def _size(size) -> str:
    h, w = (size, size) if isinstance(size, int) else tuple(size)
    return f'{w}x{h}'


def load_generator(config, checkpoint: str, device: str):
    """The ClassConditionalDDPM of a config (path, or a Config with its
    --cfg-options and image-folder settings applied) with a checkpoint's
    weights (the checkpoint's ``state_dict`` holds the EMA weights: EMAHook
    swaps them in when saving), and the config. The checkpoint's class count
    and image size are checked against the config first
    (:func:`check_generator_checkpoint`)."""
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    check_generator_checkpoint(cfg, checkpoint)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    model = MODELS.build(model_cfg)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.to(device).eval(), cfg


def image_row(label: int, index: int, batch_size: int) -> int:
    """The row of image ``index`` of class ``label`` in every UNet batch of
    ``batch_size`` rows: a class's images take consecutive rows from a
    class-dependent start (Knuth's multiplicative hash), so a fresh run
    fills its batches almost fully."""
    return (index + label * 2654435761) % batch_size


def fixed_row_batches(jobs, batch_size: int):
    """Batches of exactly ``batch_size`` rows from ``(record, row)`` jobs:
    each record in its row, None in rows without one."""
    queues = [[] for _ in range(batch_size)]
    for record, row in jobs:
        queues[row].append(record)
    for k in range(max(map(len, queues), default=0)):
        yield [q[k] if k < len(q) else None for q in queues]


def sample_complement(model, real_counts: Sequence[int], out_dir: str,
                      target: Optional[int] = None, oversample: float = 1.0,
                      guidance: float = 0.8, sampler: str = 'ddim',
                      steps: int = 100, batch_size: int = 256, seed: int = 0,
                      settings: Optional[dict] = None,
                      amp: bool = False) -> str:
    """Sample the planned images into ``out_dir`` (resumable); write and
    return its ``manifest.jsonl``. ``settings`` (extra provenance, e.g. the
    checkpoint) join the recorded sampling settings. ``amp``: the UNet under
    bfloat16 autocast (recorded; the default fp32 is bit-reproducible)."""
    _, _, counts = complement_counts(real_counts, target, oversample)
    record = dict(settings or {}, target=target, oversample=oversample,
                  guidance=guidance, sampler=sampler, steps=steps, seed=seed,
                  batch_size=batch_size, planned=counts)
    if amp:
        record['amp'] = 'bf16'
    check_settings(out_dir, record)
    size = model.unet.config.sample_size
    size = (size, size) if isinstance(size, int) else tuple(size)[::-1]
    jobs, records = [], []
    for label, n in enumerate(counts):
        for i in range(n):
            rel = image_relpath(label, i)
            records.append(ManifestRecord(path=rel, label=label,
                                          source='diffult',
                                          seed=image_seed(seed, label, i)))
            if not is_valid_image(osp.join(out_dir, rel), size):
                jobs.append((records[-1], image_row(label, i, batch_size)))
    print_log(f'DiffuLT sampling: {sum(counts)} planned, '
              f'{sum(counts) - len(jobs)} already done, {len(jobs)} to '
              f'generate ({sampler}, {steps} steps, guidance {guidance}).',
              logger='current')
    progress = ProgressBar(len(jobs)) if jobs else None
    for rows in fixed_row_batches(jobs, batch_size):
        # padding rows: class 0, seed 0 (never saved)
        generators = [torch.Generator().manual_seed(r.seed if r else 0)
                      for r in rows]
        device = next(model.parameters()).device.type
        with torch.autocast(device, dtype=torch.bfloat16, enabled=amp):
            images = model.sample([r.label if r else 0 for r in rows],
                                  generators, guidance, sampler, steps)
        images = images.permute(0, 2, 3, 1).cpu().numpy()
        for rec, img in zip(rows, images):
            if rec is not None:
                save_png_atomic(img, osp.join(out_dir, rec.path))
                progress.update()
    manifest = osp.join(out_dir, MANIFEST)
    write_manifest(manifest, records)
    print_log(f'Wrote {manifest} ({len(records)} images).', logger='current')
    return manifest


def check_settings(out_dir: str, settings: dict) -> None:
    """Write ``sampling.json``; refuse a folder sampled with other settings
    (its images would silently mix two generators)."""
    path = osp.join(out_dir, SAMPLING)
    settings = json.loads(json.dumps(settings))
    if osp.isfile(path):
        with open(path) as f:
            old = json.load(f)
        keys = ('checkpoint', 'guidance', 'sampler', 'steps', 'seed', 'amp')
        changed = {k: (old.get(k), settings.get(k)) for k in keys
                   if old.get(k) != settings.get(k)}
        if old.get('batch_size', settings.get('batch_size')) != \
                settings.get('batch_size'):
            print_log(f'{out_dir} was sampled with batch size '
                      f'{old["batch_size"]}, now {settings["batch_size"]}: '
                      'images generated now can differ (by 1 in a pixel '
                      'value) from those of an uninterrupted run. Keep the '
                      'batch size to resume exactly.', logger='current',
                      level=30)
        if changed:
            raise ValueError(
                f'{out_dir} was sampled with other settings (old, new): '
                f'{changed}. Use another --out-dir, or the same settings to '
                'resume.')
    atomic_write_json(path, settings, indent=2)
