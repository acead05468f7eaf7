"""Stage 4, filter: CLIP image-text scores and (optional) dropping.

Each generated image is scored by the cosine similarity of its open_clip
image embedding with the embedding of its class text (``template`` with the
class name; or its own prompt, ``text_source='prompt'``). Scores are cached
in ``clip_scores/<key>.jsonl`` (key: model, checkpoint, text settings; an
entry counts only while the image file is unchanged), so an interrupted or
repeated filter only scores what is new.

Selection: ``threshold`` keeps scores >= threshold; ``keep_fraction`` keeps
the best ceil(fraction * n) images of each class; both: images passing both.
Neither (the default, as in the authors' code, which has no threshold): every
image is kept and only scored. Writes ``scored.jsonl`` (every generated image
with its score), ``manifest.jsonl`` (kept images, by class, best score
first, so a dataset taking the first ``complement`` images of a class takes
the best) and ``filter_report.json``.
"""
import math
import os
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
import open_clip
import torch
from mmengine.logging import print_log
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from sau_mm.datasets.manifest import (ManifestRecord, read_manifest,
                                      resolve_path, write_manifest)
from .layout import (FILTER_REPORT, GENERATED, MANIFEST, SCORE_CACHE_DIR,
                     SCORED, append_jsonl, fill_class, read_jsonl_tolerant,
                     require, settings_key, write_json)
from .plan import read_plan

DEFAULT_CLIP_TEMPLATE = 'a photo of a {class}.'


class ClipScorer:
    """An open_clip model that scores (image, text) pairs by cosine
    similarity.

    ``model_name``: an open_clip config name (``'ViT-B-32'``), the stem of
    ``config_file`` (a JSON model config registered here), or
    ``'local-dir:/path'``. ``checkpoint``: a local weights file; None leaves
    the weights random (tests only: the scores then mean nothing).
    """

    def __init__(self, model_name: str, checkpoint: Optional[str] = None, *,
                 config_file: Optional[str] = None, device: str = 'cpu',
                 precision: str = 'fp32'):
        if config_file:
            open_clip.add_model_config(config_file)
        if checkpoint is not None and not osp.isfile(checkpoint):
            raise FileNotFoundError(
                f'CLIP checkpoint {checkpoint!r} does not exist (a local '
                'file is needed: nothing is downloaded).')
        if checkpoint is None and not model_name.startswith('local-dir:'):
            print_log(f'CLIP model {model_name} has RANDOM weights (no '
                      '--clip-checkpoint): its scores are meaningless.',
                      logger='current', level=30)
        self.model, _, self.preprocess = \
            open_clip.create_model_and_transforms(
                model_name, pretrained=checkpoint, device=device,
                precision=precision)
        self.model.eval()
        self.tokenizer = open_clip.get_tokenizer(model_name)
        self.device = device
        stat = os.stat(checkpoint) if checkpoint else None
        self.identity = dict(
            model=model_name,
            checkpoint=osp.abspath(checkpoint) if checkpoint else None,
            checkpoint_size=stat.st_size if stat else None,
            checkpoint_mtime_ns=stat.st_mtime_ns if stat else None)
        self._text_cache: Dict[str, torch.Tensor] = {}

    @torch.no_grad()
    def text_features(self, texts: List[str]) -> torch.Tensor:
        """L2-normalised text embeddings (memoised per text)."""
        new = sorted(set(texts) - set(self._text_cache))
        for start in range(0, len(new), 256):
            chunk = new[start:start + 256]
            tokens = self.tokenizer(chunk).to(self.device)
            feats = self.model.encode_text(tokens).float()
            feats = feats / feats.norm(dim=-1, keepdim=True)
            self._text_cache.update(zip(chunk, feats))
        return torch.stack([self._text_cache[t] for t in texts])

    @torch.no_grad()
    def scores(self, images: torch.Tensor, texts: List[str]) -> List[float]:
        """Cosine similarity of each preprocessed image with its text."""
        feats = self.model.encode_image(images.to(self.device)).float()
        feats = feats / feats.norm(dim=-1, keepdim=True)
        return (feats * self.text_features(texts)).sum(-1).cpu().tolist()


class _ImageFiles(Dataset):

    def __init__(self, paths: List[str], preprocess):
        self.paths, self.preprocess = paths, preprocess

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with Image.open(self.paths[i]) as img:
            return self.preprocess(img.convert('RGB'))


def score_images(out_dir: str, records: List[ManifestRecord],
                 texts: List[str], scorer: ClipScorer, *,
                 cache_settings: dict, batch_size: int = 64,
                 workers: int = 0) -> List[float]:
    """Score of each record against its text: from the cache when the image
    is unchanged, else computed in batches and appended to the cache."""
    key = settings_key(dict(scorer.identity, **cache_settings))
    cache_path = osp.join(out_dir, SCORE_CACHE_DIR, f'{key}.jsonl')
    manifest = osp.join(out_dir, GENERATED)
    paths = [resolve_path(manifest, r) for r in records]
    stats = [os.stat(p) for p in paths]
    cached = {row['path']: row for row in read_jsonl_tolerant(cache_path)}
    scores: List[Optional[float]] = []
    for rec, st in zip(records, stats):
        row = cached.get(rec.path)
        fresh = row is not None and row['size'] == st.st_size and \
            row['mtime_ns'] == st.st_mtime_ns
        scores.append(row['score'] if fresh else None)
    todo = [i for i, s in enumerate(scores) if s is None]
    print_log(f'CLIP scores: {len(records)} images, {len(records) - len(todo)}'
              f' from the cache ({cache_path}), {len(todo)} to score.',
              logger='current')
    loader = DataLoader(_ImageFiles([paths[i] for i in todo],
                                    scorer.preprocess),
                        batch_size=batch_size, num_workers=workers)
    with tqdm(total=len(todo), desc='clip score', unit='img') as bar:
        for start, images in zip(range(0, len(todo), batch_size), loader):
            idx = todo[start:start + batch_size]
            batch_scores = scorer.scores(images, [texts[i] for i in idx])
            rows = []
            for i, s in zip(idx, batch_scores):
                scores[i] = s
                rows.append(dict(path=records[i].path, score=s,
                                 size=stats[i].st_size,
                                 mtime_ns=stats[i].st_mtime_ns))
            append_jsonl(cache_path, rows)
            bar.update(len(idx))
    return scores


def select(scores: List[float], labels: List[int], num_classes: int, *,
           threshold: Optional[float] = None,
           keep_fraction: Optional[float] = None) -> List[bool]:
    """Keep mask: score >= threshold and / or among the best
    ceil(keep_fraction * n_c) of its class; all True when both are None."""
    if keep_fraction is not None and not 0 < keep_fraction <= 1:
        raise ValueError(f'keep_fraction must be in (0, 1], got '
                         f'{keep_fraction}.')
    keep = [threshold is None or s >= threshold for s in scores]
    if keep_fraction is not None:
        for c in range(num_classes):
            idx = [i for i, y in enumerate(labels) if y == c]
            best = sorted(idx, key=lambda i: -scores[i])
            for i in best[math.ceil(keep_fraction * len(idx)):]:
                keep[i] = False
    return keep


def _summary(values: List[float]) -> Optional[dict]:
    if not values:
        return None
    v = np.asarray(values)
    q10, q50, q90 = np.quantile(v, [0.1, 0.5, 0.9])
    return dict(min=float(v.min()), q10=float(q10), mean=float(v.mean()),
                median=float(q50), q90=float(q90), max=float(v.max()))


def filter_images(out_dir: str, scorer: ClipScorer, *,
                  threshold: Optional[float] = None,
                  keep_fraction: Optional[float] = None,
                  text_source: str = 'class',
                  template: str = DEFAULT_CLIP_TEMPLATE,
                  batch_size: int = 64, workers: int = 0) -> dict:
    """Run the filter stage on ``generated.jsonl``; returns the report."""
    if text_source not in ('class', 'prompt'):
        raise ValueError(f"text_source must be 'class' or 'prompt', got "
                         f'{text_source!r}.')
    plan = read_plan(out_dir)
    records = read_manifest(require(out_dir, GENERATED))
    classes = plan['classes']
    if text_source == 'class':
        texts = [fill_class(template, classes[r.label]) for r in records]
    else:
        texts = [r.prompt or fill_class(template, classes[r.label])
                 for r in records]
    cache_settings = dict(text_source=text_source, template=template)
    scores = score_images(out_dir, records, texts, scorer,
                          cache_settings=cache_settings,
                          batch_size=batch_size, workers=workers)
    labels = [r.label for r in records]
    keep = select(scores, labels, len(classes), threshold=threshold,
                  keep_fraction=keep_fraction)
    for rec, s in zip(records, scores):
        rec.score = float(s)
    write_manifest(osp.join(out_dir, SCORED), records)
    kept = sorted((i for i, k in enumerate(keep) if k),
                  key=lambda i: (labels[i], -scores[i], i))
    write_manifest(osp.join(out_dir, MANIFEST), [records[i] for i in kept])
    report = _report(plan, labels, scores, keep, dict(
        scorer.identity, text_source=text_source, template=template,
        threshold=threshold, keep_fraction=keep_fraction))
    write_json(osp.join(out_dir, FILTER_REPORT), report)
    _log_report(report, out_dir)
    return report


def _report(plan: dict, labels: List[int], scores: List[float],
            keep: List[bool], settings: dict) -> dict:
    classes = []
    for c, name in enumerate(plan['classes']):
        idx = [i for i, y in enumerate(labels) if y == c]
        kept = [scores[i] for i in idx if keep[i]]
        complement = plan['complement_counts'][c]
        classes.append(dict(
            label=c, name=name, complement=complement, scored=len(idx),
            kept=len(kept), dropped=len(idx) - len(kept),
            short=max(0, complement - len(kept)),
            scores=_summary([scores[i] for i in idx]),
            kept_scores=_summary(kept)))
    return dict(settings=settings, scored=len(labels), kept=sum(keep),
                dropped=len(keep) - sum(keep),
                short_classes=[c['name'] for c in classes if c['short']],
                classes=classes)


def _log_report(report: dict, out_dir: str) -> None:
    s = report['settings']
    rule = ('no --threshold / --keep-fraction: every image kept, scores '
            'recorded' if s['threshold'] is None and s['keep_fraction'] is
            None else f'threshold={s["threshold"]}, '
            f'keep_fraction={s["keep_fraction"]}')
    lines = [f'Filter ({rule}): {report["scored"]} images in, '
             f'{report["kept"]} kept, {report["dropped"]} dropped; report: '
             f'{osp.join(out_dir, FILTER_REPORT)}',
             f'  {"class":>5} {"name":20s} {"in":>6} {"kept":>6} {"drop":>6}'
             f' {"min":>7} {"mean":>7} {"max":>7}']
    for c in report['classes']:
        sc = c['scores'] or dict(min=math.nan, mean=math.nan, max=math.nan)
        lines.append(f'  {c["label"]:5d} {c["name"][:20]:20s} {c["scored"]:6d}'
                     f' {c["kept"]:6d} {c["dropped"]:6d} {sc["min"]:7.4f} '
                     f'{sc["mean"]:7.4f} {sc["max"]:7.4f}')
    print_log('\n'.join(lines), logger='current')
    if report['short_classes']:
        short = report['short_classes']
        print_log(f'{len(short)} class(es) now have fewer images than their '
                  f'complement ({short[:10]}): train with '
                  'allow_partial_fill=True, lower the threshold, or plan '
                  'with --oversample.', logger='current', level=30)
