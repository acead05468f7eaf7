"""Planted bad images: a complement whose bad images are known.

A diagnostic of SAU's label correction (paper Sec. 3.3, the KNN check of
synthetic samples against real samples and prototypes): take a clean
complement manifest (in practice the "oracle", held-out real images, made by
``tools/manifest_from_folder.py --source oracle``), replace a share of its
records by bad images of a known kind, and score what the run flags
(:mod:`sau_mm.analysis.noise_detection`). Never report such a manifest, or a
run on it, as synthetic data.

Which records are written: ``LongTailSyntheticDataset`` fills class c with
the FIRST ``max(0, target_count - n_c)`` records of class c in manifest order
(the authors' code draws at random from the first n_max images of a class's
pool instead). The output holds exactly that many records per class for the
fill target ``fill_to`` (default: the largest real class, the dataset's own
default), taken from the input in the same way; a run with
``target_count=fill_to`` therefore trains on every output record, planted
ones included. A larger ``target_count`` is the dataset's "too few images"
error; a smaller one would keep the first records of each class (planted
positions are random, so about the same share).

Counts: class c with m_c output records gets k_c = floor(rate * m_c + 1/2)
planted records (``rate`` as the decimal it is written as, so 0.3 * 355 =
106.5 gives 107), at positions drawn without replacement. k_c is split over
the K kinds as evenly as possible: floor(k_c / K) each, and the
r = k_c mod K remaining ones to the kinds (c + j) mod K, j < r, in the order
given (so the totals balance over classes). Every draw comes from a numpy
generator seeded by (seed, purpose[, class[, position]]): the same inputs
give the same manifest and the same pixels.

Kinds, and the fields they add (every output record carries ``planted``:
null for a clean one, else the kind; the dataset ignores extra fields):

- ``off_class``: an image of another class, labelled as this class (a
  generator that drew the wrong object); ``true_label`` is its class. Donors:
  the input records beyond each class's fill count and the records that
  off_class planting displaced, each used once, never an image the output
  uses elsewhere. Per planted record a donor class is drawn uniformly among
  the other classes with donors left (restricted to those that keep the
  remaining draws possible), then one of its donors uniformly.
- ``degraded``: the record's own image (``source_path``) blurred with a
  Gaussian of std ``blur_sigma`` pixels (kernel cut at 4 std, edges mirrored
  half-sample symmetric), then ``N(0, noise_std^2)`` noise added on the
  0..255 scale, rounded and clipped; label right.
- ``near_duplicate``: a real long-tailed training image of the same class
  (``source_path``, or ``source_index`` into the real samples for in-memory
  data), shifted by integers (dx, dy) in [-jitter_px, jitter_px] (content
  moves right / down, edges mirrored) and scaled in brightness by a gain in
  [0.9, 1.1], rounded and clipped: ``jitter`` = [dx, dy, gain].

New pixels are written as PNG to ``<output folder>/planted/<label>/
<position>_<kind>.png``; next to the output manifest, ``<name>.planted.json``
reports the arguments and the counts per class and kind.
"""
import json
import math
import os
import os.path as osp
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import List, Optional, Sequence

import numpy as np
from PIL import Image

from .manifest import (ManifestError, ManifestRecord, read_manifest,
                       resolve_path, write_manifest)

KINDS = ('off_class', 'degraded', 'near_duplicate')
PLANTED_KEY = 'planted'
# Seed purposes: one independent numpy stream each.
_POSITIONS, _DONORS, _NOISE, _NEAR = range(4)
NEAR_GAIN = 0.1


@dataclass
class Degradation:
    """The ``degraded`` kind: blur std (pixels), then noise std (0..255)."""
    blur_sigma: float = 2.0
    noise_std: float = 20.0

    def check(self) -> None:
        if self.blur_sigma < 0 or self.noise_std < 0 or \
                self.blur_sigma == self.noise_std == 0:
            raise ValueError(
                'degraded needs blur_sigma >= 0 and noise_std >= 0, not both '
                f'0 (got {self.blur_sigma}, {self.noise_std}).')


def planted_count(rate: float, n: int) -> int:
    """k = floor(rate * n + 1/2), ``rate`` taken as its decimal text."""
    return math.floor(Fraction(str(rate)) * n + Fraction(1, 2))


def split_over_kinds(k: int, num_kinds: int, label: int) -> List[int]:
    """k split as evenly as possible; the remainder to kinds (label + j)
    mod num_kinds."""
    counts = [k // num_kinds] * num_kinds
    for j in range(k % num_kinds):
        counts[(label + j) % num_kinds] += 1
    return counts


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W, C) image blurred per channel with a Gaussian of std ``sigma``
    (kernel exp(-x^2 / 2 sigma^2) on |x| <= ceil(4 sigma), normalised; edges
    mirrored half-sample symmetric); float64."""
    out = img.astype(np.float64)
    if sigma == 0:
        return out
    r = math.ceil(4 * sigma)
    x = np.arange(-r, r + 1)
    w = np.exp(-x**2 / (2 * sigma**2))
    w /= w.sum()
    h, wd = out.shape[:2]
    pad = np.pad(out, ((r, r), (r, r), (0, 0)), mode='symmetric')
    rows = sum(w[i] * pad[i:i + h] for i in range(2 * r + 1))
    return sum(w[i] * rows[:, i:i + wd] for i in range(2 * r + 1))


def degrade(img: np.ndarray, spec: Degradation,
            rng: np.random.Generator) -> np.ndarray:
    """Blur, then noise, rounded and clipped to uint8."""
    out = gaussian_blur(img, spec.blur_sigma)
    if spec.noise_std:
        out = out + rng.normal(0.0, spec.noise_std, out.shape)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def jitter(img: np.ndarray, dx: int, dy: int, gain: float) -> np.ndarray:
    """out[y, x] = gain * img[y - dy, x - dx] (edges mirrored), rounded and
    clipped to uint8."""
    p = max(abs(dx), abs(dy))
    h, w = img.shape[:2]
    pad = np.pad(img.astype(np.float64), ((p, p), (p, p), (0, 0)),
                 mode='symmetric')
    out = pad[p - dy:p - dy + h, p - dx:p - dx + w] * gain
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def load_rgb(path: str) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert('RGB'))


def _check_args(rate, kinds, seed, fill_to, degradation, jitter_px,
                real_samples) -> None:
    if not 0 <= rate <= 1:
        raise ValueError(f'rate must lie in [0, 1], got {rate}.')
    if not kinds:
        raise ValueError(f'Give at least one kind of {KINDS}.')
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or len(set(kinds)) != len(kinds):
        raise ValueError(f'kinds must be distinct names of {KINDS}, got '
                         f'{list(kinds)}.')
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f'seed must be an integer >= 0, got {seed!r}.')
    if fill_to is not None and fill_to < 1:
        raise ValueError(f'fill_to must be >= 1, got {fill_to}.')
    if 'degraded' in kinds:
        degradation.check()
    if 'near_duplicate' in kinds:
        if jitter_px < 0:
            raise ValueError(f'jitter_px must be >= 0, got {jitter_px}.')
        if real_samples is None:
            raise ValueError('near_duplicate needs the real training '
                             'samples (real_samples).')


def _select(manifest: str, records: List[ManifestRecord],
            needed: List[int]) -> tuple:
    """(used, spare): per class the first needed_c records, and the rest."""
    used = [[] for _ in needed]
    spare = [[] for _ in needed]
    for line_no, rec in enumerate(records, 1):
        if PLANTED_KEY in rec.extra:
            raise ValueError(
                f'{manifest}, record {line_no} already has a '
                f'"{PLANTED_KEY}" field: give the clean manifest the planted '
                'one was made from.')
        if not 0 <= rec.label < len(needed):
            raise ValueError(
                f'{manifest}, record {line_no}: label {rec.label} is outside '
                f'[0, {len(needed)}). Was the manifest made for another '
                'dataset?')
        part = used if len(used[rec.label]) < needed[rec.label] else spare
        part[rec.label].append(rec)
    short = [f'class {c}: {len(u)}/{n}' for c, (u, n) in
             enumerate(zip(used, needed)) if len(u) < n]
    if short:
        raise ValueError(
            f'{manifest} has too few records to fill every class '
            f'(have/needed: {", ".join(short)}). Lower the fill target or '
            'give a manifest with more images.')
    return used, spare


def _draw_donors(demand: List[int], pools: List[list],
                 rng: np.random.Generator) -> List[list]:
    """Donors per class: demand[c] items from the pools of other classes,
    each used once (module docstring). A donor class is drawn uniformly
    among those that keep the rest possible: every class e must still find
    its demand t_e in the others' pools, t_e + s_e <= S."""
    t = np.array(demand, dtype=np.int64)
    s = np.array([len(p) for p in pools], dtype=np.int64)
    worst = int(np.argmax(t + s))
    if t.sum() > s.sum() or t[worst] + s[worst] > s.sum():
        raise ValueError(
            f'off_class needs {int(t.sum())} images of other classes ('
            f'{int(t[worst])} for class {worst}), but the spare records '
            'beyond each class\'s fill count and the records off_class '
            f'displaces hold {int(s.sum())} ({int(s.sum() - s[worst])} '
            f'outside class {worst}). Lower the rate or the fill target, or '
            'give a manifest with more images.')
    pools = [list(p) for p in pools]
    out = [[] for _ in demand]
    for c in range(len(demand)):
        for _ in range(demand[c]):
            t[c] -= 1
            # a class over the limit after this draw must be the donor
            must = np.flatnonzero(t + s > s.sum() - 1).tolist()
            ok = [d for d in range(len(pools)) if d != c and s[d] > 0
                  and must in ([], [d])]
            d = ok[rng.integers(len(ok))]
            out[c].append(pools[d].pop(int(rng.integers(len(pools[d])))))
            s[d] -= 1
    return out


def plant_bad_images(manifest: str,
                     out_manifest: str,
                     real_counts: Sequence[int],
                     rate: float,
                     kinds: Sequence[str],
                     seed: int = 0,
                     fill_to: Optional[int] = None,
                     real_samples: Optional[Sequence[dict]] = None,
                     degradation: Optional[Degradation] = None,
                     jitter_px: int = 2,
                     classes: Optional[Sequence[str]] = None) -> dict:
    """Write ``out_manifest`` (module docstring) from ``manifest`` for a real
    long-tailed set of ``real_counts`` images per class; ``real_samples``
    (dicts with ``gt_label`` and ``img_path`` or ``img``, as the dataset's
    real samples) only for ``near_duplicate``. Returns the report that is
    also written to ``<out_manifest without extension>.planted.json``."""
    degradation = degradation or Degradation()
    _check_args(rate, kinds, seed, fill_to, degradation, jitter_px,
                real_samples)
    if osp.realpath(manifest) == osp.realpath(out_manifest):
        raise ValueError(f'The output manifest {out_manifest!r} is the '
                         'input: write the planted one to another file.')
    real_counts = [int(n) for n in real_counts]
    target = int(fill_to) if fill_to else max(real_counts)
    needed = [max(0, target - n) for n in real_counts]
    try:
        records = read_manifest(manifest)
    except ManifestError as e:
        raise ValueError(str(e)) from e
    used, spare = _select(manifest, records, needed)
    num_kinds = len(kinds)
    plan = []        # per class: {position: kind}
    for c, recs in enumerate(used):
        k = planted_count(rate, len(recs))
        rng = np.random.default_rng([seed, _POSITIONS, c])
        positions = rng.choice(len(recs), size=k, replace=False)
        split = split_over_kinds(k, num_kinds, c)
        order = np.repeat(np.arange(num_kinds), split)
        plan.append({int(p): kinds[j] for p, j in zip(positions, order)})
    demand = [sum(k == 'off_class' for k in p.values()) for p in plan]
    displaced = [[used[c][p] for p in sorted(plan[c])
                  if plan[c][p] == 'off_class'] for c in range(len(used))]
    donors = _draw_donors(demand, [s + d for s, d in zip(spare, displaced)],
                          np.random.default_rng([seed, _DONORS])) \
        if any(demand) else [[] for _ in used]
    real_by_class = {}
    if 'near_duplicate' in kinds:
        for i, sample in enumerate(real_samples):
            real_by_class.setdefault(int(sample['gt_label']), []).append(i)
        empty = [c for c, p in enumerate(plan)
                 if 'near_duplicate' in p.values() and c not in real_by_class]
        if empty:
            raise ValueError(f'near_duplicate: classes {empty} have no real '
                             'training image to copy.')

    out_dir = osp.dirname(osp.abspath(out_manifest))
    rel = lambda path: osp.relpath(osp.abspath(path), out_dir)  # noqa: E731
    out_records, counts = [], []
    for c, recs in enumerate(used):
        near_rng = np.random.default_rng([seed, _NEAR, c])
        donor_iter = iter(donors[c])
        counts.append({k: 0 for k in kinds})
        for pos, rec in enumerate(recs):
            kind = plan[c].get(pos)
            src = resolve_path(manifest, rec)
            if kind is None:
                out_records.append(ManifestRecord(
                    path=rel(src), label=c, source=rec.source,
                    score=rec.score, prompt=rec.prompt, seed=rec.seed,
                    extra={**rec.extra, PLANTED_KEY: None}))
                continue
            counts[c][kind] += 1
            if kind == 'off_class':
                donor = next(donor_iter)
                out_records.append(ManifestRecord(
                    path=rel(resolve_path(manifest, donor)), label=c,
                    source=donor.source, extra={
                        PLANTED_KEY: kind, 'true_label': donor.label}))
                continue
            new_path = osp.join(out_dir, 'planted', str(c),
                                f'{pos:06d}_{kind}.png')
            os.makedirs(osp.dirname(new_path), exist_ok=True)
            extra = {PLANTED_KEY: kind, 'true_label': c}
            if kind == 'degraded':
                pixels = degrade(load_rgb(src), degradation,
                                 np.random.default_rng([seed, _NOISE, c,
                                                        pos]))
                extra['source_path'] = rel(src)
            else:
                pool = real_by_class[c]
                index = pool[int(near_rng.integers(len(pool)))]
                dx, dy = (int(v) for v in near_rng.integers(
                    -jitter_px, jitter_px + 1, size=2))
                gain = float(near_rng.uniform(1 - NEAR_GAIN, 1 + NEAR_GAIN))
                sample = real_samples[index]
                if sample.get('img_path'):
                    image = load_rgb(sample['img_path'])
                    extra['source_path'] = rel(sample['img_path'])
                else:
                    image = np.asarray(sample['img'])
                    extra['source_index'] = index
                pixels = jitter(image, dx, dy, gain)
                extra['jitter'] = [dx, dy, gain]
            Image.fromarray(pixels).save(new_path)
            out_records.append(ManifestRecord(
                path=rel(new_path), label=c, source=rec.source,
                extra=extra))
    write_manifest(out_manifest, out_records)
    report = dict(
        input_manifest=osp.abspath(manifest),
        output_manifest=osp.abspath(out_manifest),
        rate=rate, kinds=list(kinds), seed=seed, fill_to=target,
        degradation=asdict(degradation) if 'degraded' in kinds else None,
        jitter_px=jitter_px if 'near_duplicate' in kinds else None,
        per_class=[dict(label=c, name=classes[c] if classes else None,
                        real=real_counts[c], records=len(used[c]),
                        planted=counts[c]) for c in range(len(used))],
        totals=dict(records=len(out_records),
                    planted={k: sum(n[k] for n in counts) for k in kinds}))
    with open(report_path(out_manifest), 'w') as f:
        json.dump(report, f, indent=1)
    return report


def report_path(out_manifest: str) -> str:
    """``<out_manifest without extension>.planted.json``."""
    return osp.splitext(out_manifest)[0] + '.planted.json'

