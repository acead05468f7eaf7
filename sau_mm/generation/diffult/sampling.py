"""Sample the DiffuLT complement: fill every class up to a target count.

Plan: class c gets ``ceil(oversample * max(0, target - real_c))`` images,
``target`` defaulting to the largest real class. Image i of class c is
``images/<c>/<i:06d>.png`` with seed ``image_seed(seed, c, i)`` (its own
generator: the result does not depend on batching); both rules are
:mod:`sau_mm.generation.complement`'s, shared with the text-to-image stages. Images are written
atomically (temp file + ``os.replace``); a rerun skips images already on
disk and readable, so an interrupted run resumes. ``sampling.json`` records
the settings; a rerun with other settings into the same folder is refused.
The manifest (``manifest.jsonl``, source ``'diffult'``) lists every planned
image and is written at the end.
"""
import json
import os
import os.path as osp
from typing import Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.utils import ProgressBar
from mmpretrain.registry import MODELS
from PIL import Image

from sau_mm.datasets.manifest import ManifestRecord, write_manifest

from ..complement import complement_counts, image_relpath, image_seed


def is_valid_image(path: str, size) -> bool:
    """A decodable RGB PNG of (W, H) ``size``."""
    try:
        with Image.open(path) as img:
            img.load()
            return img.mode == 'RGB' and img.size == tuple(size)
    except (OSError, ValueError):
        return False


def save_png_atomic(array, path: str) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = f'{path}.tmp.{os.getpid()}'
    Image.fromarray(array).save(tmp, format='PNG')
    os.replace(tmp, path)


def load_generator(config: str, checkpoint: str, device: str):
    """The ClassConditionalDDPM of a config with a checkpoint's weights
    (the checkpoint's ``state_dict`` holds the EMA weights: EMAHook swaps
    them in when saving), and the config."""
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    model = MODELS.build(model_cfg)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.to(device).eval(), cfg


def sample_complement(model, real_counts: Sequence[int], out_dir: str,
                      target: Optional[int] = None, oversample: float = 1.0,
                      guidance: float = 0.8, sampler: str = 'ddim',
                      steps: int = 100, batch_size: int = 256, seed: int = 0,
                      settings: Optional[dict] = None) -> str:
    """Sample the planned images into ``out_dir`` (resumable); write and
    return its ``manifest.jsonl``. ``settings`` (extra provenance, e.g. the
    checkpoint) join the recorded sampling settings."""
    _, _, counts = complement_counts(real_counts, target, oversample)
    record = dict(settings or {}, target=target, oversample=oversample,
                  guidance=guidance, sampler=sampler, steps=steps, seed=seed,
                  planned=counts)
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
                jobs.append(records[-1])
    print_log(f'DiffuLT sampling: {sum(counts)} planned, '
              f'{sum(counts) - len(jobs)} already done, {len(jobs)} to '
              f'generate ({sampler}, {steps} steps, guidance {guidance}).',
              logger='current')
    progress = ProgressBar(len(jobs)) if jobs else None
    for start in range(0, len(jobs), batch_size):
        batch = jobs[start:start + batch_size]
        generators = [torch.Generator().manual_seed(r.seed) for r in batch]
        images = model.sample([r.label for r in batch], generators, guidance,
                              sampler, steps)
        images = images.permute(0, 2, 3, 1).cpu().numpy()
        for rec, img in zip(batch, images):
            save_png_atomic(img, osp.join(out_dir, rec.path))
            progress.update()
    manifest = osp.join(out_dir, 'manifest.jsonl')
    write_manifest(manifest, records)
    print_log(f'Wrote {manifest} ({len(records)} images).', logger='current')
    return manifest


def check_settings(out_dir: str, settings: dict) -> None:
    """Write ``sampling.json``; refuse a folder sampled with other settings
    (its images would silently mix two generators)."""
    path = osp.join(out_dir, 'sampling.json')
    settings = json.loads(json.dumps(settings))
    if osp.isfile(path):
        with open(path) as f:
            old = json.load(f)
        keys = ('checkpoint', 'guidance', 'sampler', 'steps', 'seed')
        changed = {k: (old.get(k), settings.get(k)) for k in keys
                   if old.get(k) != settings.get(k)}
        if changed:
            raise ValueError(
                f'{out_dir} was sampled with other settings (old, new): '
                f'{changed}. Use another --out-dir, or the same settings to '
                'resume.')
    os.makedirs(out_dir, exist_ok=True)
    tmp = f'{path}.tmp.{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(settings, f, indent=2)
    os.replace(tmp, path)
