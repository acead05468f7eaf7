"""Stage 5, inspect: one contact sheet (PNG) per class.

Rows: real training images of the class, a random sample of its kept
synthetic images, and its lowest-scoring synthetic images with their scores
(dropped ones framed in red), so a person can judge the generator and the
filter. Written to ``inspect/<c>_<name>.png``.
"""
import os
import os.path as osp
import random
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from sau_mm.datasets.manifest import (ManifestRecord, read_manifest,
                                      resolve_path)
from .layout import GENERATED, INSPECT_DIR, MANIFEST, SCORED, require
from .plan import build_real_dataset, read_plan, real_image

LABEL_WIDTH = 120
CAPTION = 14
DROPPED = (220, 30, 30)


def real_images_by_class(plan: dict, per_class: int, *, seed: int = 0
                         ) -> Dict[int, List[np.ndarray]]:
    """Up to ``per_class`` real training images per class (seeded choice),
    from the dataset the plan was made for; empty if it cannot be built."""
    info = plan.get('dataset') or {}
    if not info.get('config') or not osp.isfile(info['config']):
        print_log('No dataset config in plan.json (or it moved): contact '
                  'sheets show no real images.', logger='current', level=30)
        return {}
    options = dict(info.get('cfg_options') or {})
    options[f'{info["config_key"]}.data_root'] = info['data_root']
    dataset, _, _ = build_real_dataset(info['config'], options)
    by_class: Dict[int, List[int]] = {}
    for i in dataset.real_indices:
        by_class.setdefault(dataset.get_data_info(int(i))['gt_label'],
                            []).append(int(i))
    rng = random.Random(seed)
    return {c: [real_image(dataset, i)
                for i in rng.sample(idx, min(per_class, len(idx)))]
            for c, idx in by_class.items()}


def captioned_tile(img: Image.Image, tile: int, caption: Optional[str] = None,
                   frame: Optional[Tuple[int, int, int]] = None,
                   resample: int = Image.LANCZOS) -> Image.Image:
    """``img`` resized to ``tile`` x ``tile`` (``resample``), an optional
    caption line below it and an optional coloured frame."""
    out = Image.new('RGB', (tile, tile + CAPTION), 'white')
    out.paste(img.convert('RGB').resize((tile, tile), resample), (0, 0))
    draw = ImageDraw.Draw(out)
    if frame:
        draw.rectangle([0, 0, tile - 1, tile - 1], outline=frame, width=3)
    if caption:
        draw.text((2, tile + 1), caption, fill=frame or 'black',
                  font=ImageFont.load_default())
    return out


def contact_sheet(title: str, rows: Sequence[Tuple[str, List[Image.Image]]],
                  *, tile: int = 64, columns: int = 8) -> Image.Image:
    """A sheet with a title line and labelled rows of captioned tiles."""
    font = ImageFont.load_default()
    row_h = tile + CAPTION + 4
    sheet = Image.new('RGB', (LABEL_WIDTH + columns * (tile + 4),
                              20 + len(rows) * row_h), 'white')
    draw = ImageDraw.Draw(sheet)
    draw.text((4, 4), title, fill='black', font=font)
    for r, (label, tiles) in enumerate(rows):
        y = 20 + r * row_h
        draw.text((4, y + tile // 2), label, fill='black', font=font)
        for k, t in enumerate(tiles[:columns]):
            sheet.paste(t, (LABEL_WIDTH + k * (tile + 4), y))
    return sheet


def inspect_out_dir(out_dir: str, *, num_real: int = 8,
                    num_synthetic: int = 8, num_lowest: int = 8,
                    tile: int = 64,
                    classes: Optional[Sequence[int]] = None,
                    seed: int = 0) -> List[str]:
    """Write the contact sheets of ``classes`` (default: every class with
    synthetic images); returns their paths."""
    plan = read_plan(out_dir)
    scored = osp.join(out_dir, SCORED)
    source = scored if osp.isfile(scored) else require(out_dir, GENERATED)
    records = read_manifest(source)
    manifest = osp.join(out_dir, MANIFEST)
    kept = ({r.path for r in read_manifest(manifest)}
            if osp.isfile(manifest) else {r.path for r in records})
    by_class: Dict[int, List[ManifestRecord]] = {}
    for r in records:
        by_class.setdefault(r.label, []).append(r)
    if classes is None:
        classes = sorted(by_class)
    real = real_images_by_class(plan, num_real, seed=seed)
    folder = osp.join(out_dir, INSPECT_DIR)
    os.makedirs(folder, exist_ok=True)
    rng = random.Random(seed)
    written = []
    for c in tqdm(classes, desc='inspect', unit='class'):
        recs = by_class.get(c, [])
        kept_recs = [r for r in recs if r.path in kept]
        sample = rng.sample(kept_recs, min(num_synthetic, len(kept_recs)))
        rows = [('real', [captioned_tile(Image.fromarray(a), tile)
                          for a in real.get(c, [])]),
                ('synthetic (kept)', [_load_tile(source, r, tile, kept)
                                      for r in sample])]
        scored_recs = [r for r in recs if r.score is not None]
        if scored_recs:
            lowest = sorted(scored_recs, key=lambda r: r.score)[:num_lowest]
            rows.append(('lowest scores', [_load_tile(source, r, tile, kept)
                                           for r in lowest]))
        name = plan['classes'][c]
        title = (f'{c} {name}: {plan["real_counts"][c]} real, {len(recs)} '
                 f'synthetic, {len(kept_recs)} kept (red frame: dropped)')
        sheet = contact_sheet(title, rows, tile=tile,
                              columns=max(num_real, num_synthetic,
                                          num_lowest, 1))
        safe = re.sub(r'[^A-Za-z0-9_-]+', '_', name)
        path = osp.join(folder, f'{c:04d}_{safe}.png')
        sheet.save(path)
        written.append(path)
    print_log(f'Inspect: {len(records)} synthetic images of {len(classes)} '
              f'class(es) -> {len(written)} contact sheets in {folder}.',
              logger='current')
    return written


def _load_tile(manifest: str, rec: ManifestRecord, tile: int,
               kept: set) -> Image.Image:
    with Image.open(resolve_path(manifest, rec)) as img:
        caption = None if rec.score is None else f'{rec.score:.3f}'
        frame = None if rec.path in kept else DROPPED
        return captioned_tile(img, tile, caption, frame)
