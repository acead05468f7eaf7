"""A synthetic manifest with what its filter kept and dropped, its scores,
and the samples SAU's label correction flagged as noise.

Layouts recognised, from the manifest's folder:

- DiffuLT (``tools/diffult_filter.py``): ``manifest.jsonl`` (every sample,
  no score) and ``manifest_filtered.jsonl`` (the kept ones, with ``score``);
  either file given: all = manifest.jsonl, kept = manifest_filtered.jsonl.
  The score's meaning comes from ``manifest_filtered.report.json``'s rule.
- text-to-image (``tools/generate_synthetic.py filter``): ``scored.jsonl``
  (every image, CLIP score) and ``manifest.jsonl`` (kept); given
  manifest.jsonl: all = scored.jsonl, kept = manifest.jsonl.
- anything else: every record kept, its own ``score`` if it has one.

Records are matched by their resolved absolute path. Noise flags: a
``noise_flags/epoch_N.json`` of a SAU run (``flagged_samples[].path``).
"""
import json
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from sau_mm.datasets.manifest import (ManifestRecord, read_manifest,
                                      resolve_path)
from sau_mm.generation import diffult_layout as diffult
from sau_mm.generation.text2image import layout as text2image

DIFFULT_ALL, DIFFULT_KEPT = diffult.MANIFEST, diffult.FILTERED
CLIP_ALL, CLIP_KEPT = text2image.SCORED, text2image.MANIFEST
SCORE_MEANING = dict(
    centroid='DiffuLT filter score: cosine to the class\'s real-feature '
             'centre',
    agreement='DiffuLT filter score: classifier probability of the label',
    clip='CLIP image-text cosine similarity')


@dataclass
class SyntheticSet:
    manifest: str                 # the manifest given
    records: List[ManifestRecord]  # every generated sample known
    paths: List[str]              # resolved absolute image paths
    labels: np.ndarray
    kept: np.ndarray              # bool: in the manifest training reads
    scores: np.ndarray            # float, nan where unknown
    flagged: np.ndarray           # bool: flagged as noise by SAU
    filter: str                   # 'diffult', 'clip' or 'none'
    score_meaning: Optional[str]


def path_key(path: str) -> str:
    """The key images are matched by: the resolved absolute path."""
    return osp.normcase(osp.realpath(path))


def resolved_paths(manifest: str,
                   records: List[ManifestRecord]) -> List[str]:
    """``path_key`` of every record's image."""
    return [path_key(resolve_path(manifest, r)) for r in records]


def _layout(manifest: str):
    """(all-records file, kept file or None, filter name)."""
    folder, name = osp.split(osp.abspath(manifest))
    if name in (DIFFULT_ALL, DIFFULT_KEPT) and \
            osp.isfile(osp.join(folder, DIFFULT_ALL)) and \
            osp.isfile(osp.join(folder, DIFFULT_KEPT)):
        return (osp.join(folder, DIFFULT_ALL), osp.join(folder, DIFFULT_KEPT),
                'diffult')
    if name == CLIP_KEPT and osp.isfile(osp.join(folder, CLIP_ALL)):
        return osp.join(folder, CLIP_ALL), manifest, 'clip'
    return manifest, None, 'none'


def _diffult_rule(kept_file: str) -> Optional[str]:
    report = diffult.report_paths(kept_file)[0]
    if not osp.isfile(report):
        return None
    with open(report) as f:
        return json.load(f).get('rule')


def flagged_paths(noise_flags: str) -> set:
    """Resolved paths of the samples a ``noise_flags/epoch_N.json`` lists."""
    with open(noise_flags) as f:
        data = json.load(f)
    if 'flagged_samples' not in data:
        raise ValueError(f'{noise_flags} has no flagged_samples: give a '
                         'noise_flags/epoch_N.json of a SAU run.')
    return flagged_keys(data)


def flagged_keys(record: dict) -> set:
    """``path_key`` of the samples a noise-flags record lists."""
    return {path_key(s['path']) for s in record['flagged_samples']
            if s.get('path')}


def load_synthetic_set(manifest: str, noise_flags: Optional[str] = None
                       ) -> SyntheticSet:
    """Read ``manifest`` with its filter's layout (module docstring)."""
    all_file, kept_file, kind = _layout(manifest)
    records = read_manifest(all_file)
    paths = resolved_paths(all_file, records)
    scores = np.array([np.nan if r.score is None else r.score
                       for r in records], dtype=float)
    if kept_file is None:
        kept = np.ones(len(records), dtype=bool)
    else:
        kept_records = read_manifest(kept_file)
        kept_scores = {p: r.score for p, r in zip(
            resolved_paths(kept_file, kept_records), kept_records)}
        kept = np.array([p in kept_scores for p in paths], dtype=bool)
        for i, p in enumerate(paths):
            if np.isnan(scores[i]) and kept_scores.get(p) is not None:
                scores[i] = kept_scores[p]
        missing = len(set(kept_scores) - set(paths))
        if missing:
            raise ValueError(
                f'{kept_file} lists {missing} image(s) that {all_file} does '
                'not: were they made by another run? Give the kept manifest '
                'alone in a folder of its own to report on it by itself.')
    flagged = np.zeros(len(records), dtype=bool)
    if noise_flags:
        marks = flagged_paths(noise_flags)
        flagged = np.array([p in marks for p in paths], dtype=bool)
    meaning = None
    if not np.isnan(scores).all():
        meaning = (SCORE_MEANING.get(_diffult_rule(kept_file))
                   if kind == 'diffult' else SCORE_MEANING['clip']
                   if kind == 'clip' else 'the manifest\'s score')
    return SyntheticSet(
        manifest=manifest, records=records, paths=paths,
        labels=np.array([r.label for r in records], dtype=np.int64),
        kept=kept, scores=scores, flagged=flagged, filter=kind,
        score_meaning=meaning)
