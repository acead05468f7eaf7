"""Stage 3, generate: every planned image, resumable.

Image i of class c is ``images/<c>/<i:06d>.png``, made from ``prompts[c][i]``
with its own seed ``image_seed(seed, c, i)`` (a CPU ``torch.Generator`` per
image, so the initial noise does not depend on batching or device). Each
image is written to a temp file and ``os.replace``-d into place with its
prompt and seed embedded, so a file at its final path is always complete. A
rerun skips every image that decodes, has the dataset's resolution and
carries its planned prompt and seed; it regenerates the rest. Only when all
planned images exist are ``generated.jsonl`` and ``manifest.jsonl`` written
(atomically), listing exactly the planned images in plan order. A kill at any
point therefore loses at most the batch in flight and never leaves a
duplicate or corrupt record.
"""
import glob
import importlib
import json
import os
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import List, Optional, Sequence

import diffusers
import torch
from mmengine.logging import print_log
from PIL import Image, PngImagePlugin
from tqdm import tqdm

from sau_mm.datasets.manifest import (ManifestRecord, read_manifest,
                                      write_manifest)
from sau_mm.utils.fileio import TEMP_INFIX, atomic_path, pid_alive, temp_pid
from ..complement import IMAGES_DIR, image_relpath, image_seed
from .layout import (GENERATED, GENERATION, MANIFEST, SCORED, StageError,
                     write_json)
from .plan import read_plan
from .prompts import read_prompts

META_KEY = 'sau_mm'
FORMATS = {'png': 'PNG', 'jpg': 'JPEG'}
DTYPES = {'fp32': torch.float32, 'fp16': torch.float16,
          'bf16': torch.bfloat16}


class GenerationSettingsError(StageError):
    """The output folder holds images made with other settings."""


@dataclass
class PlannedImage:
    """One image of the plan."""
    label: int
    index: int
    path: str  # relative to out_dir
    prompt: str
    seed: int

    def meta(self) -> dict:
        return dict(prompt=self.prompt, seed=self.seed)


def planned_images(plan: dict, prompts: List[List[str]], seed: int,
                   ext: str = 'png') -> List[PlannedImage]:
    """All planned images, class by class, in index order."""
    return [PlannedImage(c, i, image_relpath(c, i, ext), prompts[c][i],
                         image_seed(seed, c, i))
            for c, n in enumerate(plan['needed_counts']) for i in range(n)]


def load_pipeline(pipeline_dir: str, *,
                  pipeline_class: Optional[str] = None, device: str = 'cpu',
                  dtype: str = 'auto', variant: Optional[str] = None):
    """A diffusers text-to-image pipeline from a local folder.

    ``pipeline_class``: None (AutoPipelineForText2Image picks it from
    model_index.json), a diffusers class name (``'StableDiffusionPipeline'``)
    or ``'package.module:Class'``. ``dtype`` 'auto' is fp16 on CUDA, fp32
    otherwise. Nothing is downloaded (``local_files_only``).
    """
    if not osp.isdir(pipeline_dir):
        raise FileNotFoundError(
            f'Pipeline folder {pipeline_dir!r} does not exist. Save one with '
            '`pipe.save_pretrained(folder)` (or download it) beforehand; '
            'this tool never downloads.')
    if pipeline_class is None:
        cls = diffusers.AutoPipelineForText2Image
    elif ':' in pipeline_class:
        module, name = pipeline_class.split(':', 1)
        cls = getattr(importlib.import_module(module), name)
    else:
        cls = getattr(diffusers, pipeline_class)
    if dtype == 'auto':
        dtype = 'fp16' if str(device).startswith('cuda') else 'fp32'
    pipe = cls.from_pretrained(pipeline_dir, torch_dtype=DTYPES[dtype],
                               local_files_only=True, variant=variant)
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    print_log(f'Loaded {type(pipe).__name__} from {pipeline_dir} on {device} '
              f'({dtype}).', logger='current')
    return pipe


def image_is_done(path: str, item: PlannedImage, resolution: int) -> bool:
    """The file decodes fully, is resolution x resolution and carries the
    item's prompt and seed."""
    try:
        with Image.open(path) as img:
            raw = img.info.get(META_KEY, img.info.get('comment', b''))
            meta = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
            img.load()
            return img.size == (resolution, resolution) and \
                meta == item.meta()
    except Exception:  # any unreadable or foreign file is simply redone
        return False


def save_image_atomic(img: Image.Image, path: str, item: PlannedImage,
                      resolution: int) -> None:
    """Resize (LANCZOS) to resolution, embed prompt and seed, write to a temp
    file in the same folder and os.replace it into ``path``."""
    if img.size != (resolution, resolution):
        img = img.resize((resolution, resolution), Image.LANCZOS)
    img = img.convert('RGB')
    meta = json.dumps(item.meta(), ensure_ascii=False)
    fmt = FORMATS[path.rsplit('.', 1)[1]]
    with atomic_path(path) as tmp, open(tmp, 'wb') as f:
        if fmt == 'PNG':
            info = PngImagePlugin.PngInfo()
            info.add_text(META_KEY, meta)
            img.save(f, format=fmt, pnginfo=info)
        else:
            img.save(f, format=fmt, quality=95, comment=meta.encode())


def remove_stale_temps(out_dir: str) -> int:
    """Delete temp images left by killed runs (their process is gone)."""
    removed = 0
    for tmp in glob.glob(osp.join(out_dir, IMAGES_DIR, '*', f'*{TEMP_INFIX}*')):
        pid = temp_pid(tmp)
        if pid != os.getpid() and pid_alive(pid):
            continue  # another shard is writing it
        os.remove(tmp)
        removed += 1
    return removed


def check_settings(out_dir: str, settings: dict) -> None:
    """Record the settings in generation.json; refuse to mix images made
    with different ones."""
    path = osp.join(out_dir, GENERATION)
    if osp.isfile(path):
        with open(path, encoding='utf-8') as f:
            old = json.load(f)
        diff = {k: (old.get(k), v) for k, v in settings.items()
                if old.get(k) != v}
        if diff:
            detail = '; '.join(f'{k}: {a!r} before, {b!r} now'
                               for k, (a, b) in diff.items())
            raise GenerationSettingsError(
                f'{out_dir} holds images made with other settings ({detail}).'
                ' Rerun with the same settings to resume, use another '
                '--out-dir, or delete its images/ and generation.json to '
                'start over.')
    write_json(path, settings)


def generate_images(out_dir: str, pipe, *, steps: int, guidance: float,
                    seed: int = 0, batch_size: int = 8,
                    height: Optional[int] = None, width: Optional[int] = None,
                    negative_prompt: Optional[str] = None,
                    image_format: str = 'png', source: Optional[str] = None,
                    shard: Sequence[int] = (0, 1),
                    check_workers: int = 8) -> dict:
    """Generate the missing planned images of shard ``(index, count)``
    (planned image k belongs to shard k mod count) with ``pipe`` (from
    :func:`load_pipeline`) and write the manifests once every planned image
    exists; ``source`` defaults to ``text2image:<pipeline folder name>``.
    Settings that change the images (pipeline class and folder name, steps,
    guidance, seed, size, negative prompt, resolution, format) must match
    earlier runs in ``out_dir`` (generation.json). Returns counts: planned,
    shard, already_done, generated, missing (planned images not on disk yet,
    other shards' included) and manifest_written."""
    plan = read_plan(out_dir)
    prompts = read_prompts(out_dir, plan)
    resolution = int(plan['resolution'])
    items = planned_images(plan, prompts, seed, image_format)
    pipeline_name = osp.basename(osp.abspath(pipe.name_or_path))
    source = source or f'text2image:{pipeline_name}'
    check_settings(out_dir, dict(
        pipeline=type(pipe).__name__, pipeline_name=pipeline_name,
        steps=steps, guidance=guidance, seed=seed, height=height, width=width,
        negative_prompt=negative_prompt, resolution=resolution,
        image_format=image_format))
    stale = remove_stale_temps(out_dir)
    index, count = shard
    mine = [it for k, it in enumerate(items) if k % count == index]
    done = _check_existing(out_dir, mine, resolution, check_workers)
    todo = [it for it, ok in zip(mine, done) if not ok]
    print_log(f'Generate: {len(items)} planned images, {len(mine)} in shard '
              f'{index}/{count}, {len(mine) - len(todo)} already done, '
              f'{len(todo)} to generate ({stale} stale temp file(s) removed).'
              f' steps={steps} guidance={guidance} batch={batch_size} '
              f'resolution={resolution}.', logger='current')
    with tqdm(total=len(mine), initial=len(mine) - len(todo),
              desc='generate', unit='img') as bar:
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            images = _run(pipe, batch, steps=steps, guidance=guidance,
                          height=height, width=width,
                          negative_prompt=negative_prompt)
            for item, img in zip(batch, images):
                save_image_atomic(img, osp.join(out_dir, item.path), item,
                                  resolution)
            bar.update(len(batch))
    others = [it for k, it in enumerate(items) if k % count != index]
    missing = len(others) - sum(
        _check_existing(out_dir, others, resolution, check_workers))
    stats = dict(planned=len(items), shard=len(mine),
                 already_done=len(mine) - len(todo), generated=len(todo),
                 missing=missing, manifest_written=False)
    if missing:
        print_log(f'{missing} planned images (other shards) are not on disk '
                  'yet: the run that completes the set writes the manifest.',
                  logger='current', level=30)
        return stats
    records = [ManifestRecord(path=it.path, label=it.label, source=source,
                              prompt=it.prompt, seed=it.seed) for it in items]
    stats['manifest_written'] = _write_manifests(out_dir, records)
    return stats


def _run(pipe, batch: List[PlannedImage], *, steps: int, guidance: float,
         height: Optional[int], width: Optional[int],
         negative_prompt: Optional[str]) -> List[Image.Image]:
    kwargs = dict(prompt=[it.prompt for it in batch],
                  num_inference_steps=steps, guidance_scale=guidance,
                  generator=[torch.Generator('cpu').manual_seed(it.seed)
                             for it in batch],
                  output_type='pil')
    if negative_prompt:
        kwargs['negative_prompt'] = [negative_prompt] * len(batch)
    if height:
        kwargs['height'] = height
    if width:
        kwargs['width'] = width
    images = pipe(**kwargs).images
    if len(images) != len(batch):
        raise RuntimeError(f'{type(pipe).__name__} returned {len(images)} '
                           f'images for {len(batch)} prompts.')
    return images


def _check_existing(out_dir: str, items: List[PlannedImage], resolution: int,
                    workers: int) -> List[bool]:
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(tqdm(
            pool.map(lambda it: image_is_done(osp.join(out_dir, it.path), it,
                                              resolution), items),
            total=len(items), desc='check existing', unit='img',
            leave=False))


def _write_manifests(out_dir: str, records: List[ManifestRecord]) -> bool:
    generated = osp.join(out_dir, GENERATED)
    manifest = osp.join(out_dir, MANIFEST)
    new = [r.to_json() for r in records]
    if osp.isfile(generated) and osp.isfile(manifest) and \
            [r.to_json() for r in read_manifest(generated)] == new:
        print_log(f'{generated} is up to date ({len(records)} images); '
                  f'{manifest} left as it is.', logger='current')
        return False
    write_manifest(manifest, records)  # first: generated.jsonl marks done
    write_manifest(generated, records)
    note = (' It replaces a filtered manifest: rerun the filter stage.'
            if osp.isfile(osp.join(out_dir, SCORED)) else '')
    print_log(f'Wrote {manifest} and {generated}: {len(records)} images.'
              + note, logger='current', level=30 if note else 20)
    return True
