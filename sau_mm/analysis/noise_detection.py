"""SAU's noise detector scored against planted bad images.

Ground truth: a manifest of ``tools/corrupt_manifest.py``
(:mod:`sau_mm.datasets.planted_noise`): a record whose ``planted`` is a kind
is bad, one whose ``planted`` is null is clean. The run must have trained on
every record (``target_count`` = the manifest's fill target).

Detector output: ``WORK_DIR/noise_flags/epoch_<e>.json`` of
``LabelCorrectionHook``, the synthetic samples that the KNN label
correction flagged as noise in AT LEAST ONE of their draws of epoch e (each
draw is judged in its own batch, with the weights of that moment, against
that batch's real samples and the prototypes; the training samplers draw
every sample once per epoch). A record is "flagged at epoch e" when its
image is listed there (matched by resolved path).

Per epoch, with F the flagged records, P the planted ones and C the clean
ones (a ratio 0/0 is None):

- precision = |F & P| / |F|; recall = |F & P| / |P|;
  F1 = 2 |F & P| / (2 |F & P| + |F & C| + |P - F|) (the harmonic mean of
  the two, defined also when one of them is not);
- false-flag rate = |F & C| / |C|, the clean synthetic images flagged;
- chance precision = |P| / (|P| + |C|), a detector flagging at random;
- per class (the label the run trained with): the same within the class;
- per kind k: recall_k = |F & P_k| / |P_k| and precision_k =
  |F & P_k| / (|F & P_k| + |F & C|), the precision had only kind k been
  planted (a flag does not say which kind it suspects).

Over all E epochs (``flag_counts``): a record's score n is the number of
epochs it was flagged in; AUC = P(n_planted > n_clean) + P(n_planted =
n_clean) / 2 over all (planted, clean) pairs, overall and per kind (kind k
against the clean records); and for each t = E..1 the precision, recall and
false-flag rate of "flagged in at least t epochs".
"""
import json
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sau_mm.datasets.manifest import read_manifest
from sau_mm.datasets.planted_noise import PLANTED_KEY
from .figures import save_figure
from .run_records import RunRecord, read_noise_flags
from .synthetic_sets import flagged_keys, resolved_paths
from .tables import (fmt_share, render_markdown, train_dataset_cfg,
                     write_json_and_markdown)

FIGURE_SIZE = (16, 4.2)
OVERALL = ('precision', 'recall', 'f1', 'false_flag_rate')
FILES = ('noise_detection.json', 'noise_detection.md', 'noise_detection.png')


class NoiseDetectionError(ValueError):
    """Flags and manifest that cannot be scored together; says why."""


@dataclass
class PlantedSet:
    manifest: str
    paths: List[str]              # path_key of every record's image
    labels: np.ndarray            # the label trained with
    kinds: List[Optional[str]]    # planted kind, None for a clean record

    @property
    def kind_names(self) -> List[str]:
        return sorted({k for k in self.kinds if k})

    @property
    def kind_array(self) -> np.ndarray:
        """(records,) str: each record's planted kind, '' for a clean one."""
        return np.array([k or '' for k in self.kinds])


def is_planted_manifest(manifest: str) -> bool:
    """Whether ``manifest`` exists and its records carry ``planted``."""
    if not osp.isfile(manifest):
        return False
    with open(manifest, encoding='utf-8') as f:
        first = f.readline()
    try:
        return PLANTED_KEY in json.loads(first)
    except json.JSONDecodeError:
        return False


def load_planted_set(manifest: str) -> PlantedSet:
    """The ground truth of a planted manifest (module docstring)."""
    records = read_manifest(manifest)
    if not records or not all(PLANTED_KEY in r.extra for r in records):
        raise NoiseDetectionError(
            f'{manifest} is not a planted manifest (its records need a '
            f'"{PLANTED_KEY}" field): make one with '
            'tools/corrupt_manifest.py (--rate 0: the same records, all '
            'clean, for a clean control).')
    paths = resolved_paths(manifest, records)
    if len(set(paths)) != len(paths):
        raise NoiseDetectionError(
            f'{manifest} lists an image twice; noise flags are matched by '
            'image path, so every record needs its own file.')
    return PlantedSet(manifest=manifest, paths=paths,
                      labels=np.array([r.label for r in records]),
                      kinds=[r.extra[PLANTED_KEY] for r in records])


def _ratio(num: int, den: int) -> Optional[float]:
    return num / den if den else None


def _scores(flagged: np.ndarray, planted: np.ndarray) -> dict:
    """Counts and ratios of one group of records (boolean masks)."""
    tp = int((flagged & planted).sum())
    fp = int((flagged & ~planted).sum())
    fn = int((~flagged & planted).sum())
    clean = int((~planted).sum())
    return dict(records=len(planted), planted=int(planted.sum()),
                flagged=int(flagged.sum()), true_flags=tp,
                precision=_ratio(tp, tp + fp), recall=_ratio(tp, tp + fn),
                f1=_ratio(2 * tp, 2 * tp + fp + fn),
                false_flag_rate=_ratio(fp, clean),
                chance_precision=_ratio(tp + fn, len(planted)))


def score_flags(truth: PlantedSet, flagged: np.ndarray,
                class_names: Sequence[str]) -> dict:
    """One epoch's scores: overall, ``per_kind`` and ``per_class``
    (``flagged``: (records,) bool, in ``truth.paths`` order)."""
    kinds = truth.kind_array
    planted = kinds != ''
    out = _scores(flagged, planted)
    false_flags = int((flagged & ~planted).sum())
    out['per_kind'] = {}
    for kind in truth.kind_names:
        mask = kinds == kind
        hits = int((flagged & mask).sum())
        out['per_kind'][kind] = dict(
            planted=int(mask.sum()), flagged=hits,
            recall=_ratio(hits, int(mask.sum())),
            precision=_ratio(hits, hits + false_flags))
    out['per_class'] = []
    for c, name in enumerate(class_names):
        mask = truth.labels == c
        if mask.any():
            out['per_class'].append(dict(
                label=c, name=name, **_scores(flagged[mask], planted[mask])))
    return out


def _auc(pos: np.ndarray, neg: np.ndarray) -> Optional[float]:
    """P(pos > neg) + P(pos = neg) / 2 for integer scores (None if a side
    is empty)."""
    if not len(pos) or not len(neg):
        return None
    top = int(max(pos.max(), neg.max())) + 1
    neg_hist = np.bincount(neg, minlength=top)
    below = np.concatenate([[0], np.cumsum(neg_hist)[:-1]])
    return float((below[pos] + neg_hist[pos] / 2).sum()
                 / (len(pos) * len(neg)))


def flag_count_scores(truth: PlantedSet, counts: np.ndarray,
                      num_epochs: int) -> dict:
    """AUC and thresholded scores of the epochs-flagged count (module
    docstring); ``counts`` (records,) int."""
    kinds = truth.kind_array
    planted = kinds != ''
    thresholds = []
    for t in range(num_epochs, 0, -1):
        s = _scores(counts >= t, planted)
        thresholds.append(dict(min_epochs=t, **{k: s[k] for k in (
            'flagged', 'precision', 'recall', 'false_flag_rate')}))
    return dict(
        epochs=num_epochs, auc=_auc(counts[planted], counts[~planted]),
        auc_per_kind={k: _auc(counts[kinds == k], counts[~planted])
                      for k in truth.kind_names},
        thresholds=thresholds)


def detection_report(work_dir: str, manifest: str,
                     flags: Optional[Dict[int, dict]] = None) -> dict:
    """Scores of every epoch of ``work_dir``'s noise flags against
    ``manifest`` (``flags``: already read ones, ``read_noise_flags``)."""
    flags = read_noise_flags(work_dir) if flags is None else flags
    if not flags:
        raise NoiseDetectionError(
            f'{work_dir} has no noise_flags/epoch_<e>.json: give the work '
            'dir of a SAU run (LabelCorrectionHook writes them).')
    truth = load_planted_set(manifest)
    index = set(truth.paths)
    epochs, notes = [], []
    counts = np.zeros(len(truth.paths), dtype=np.int64)
    for epoch, record in flags.items():
        names = list(record.get('seen_per_class') or {})
        names = names or [str(c) for c in range(int(truth.labels.max()) + 1)]
        if 'flagged_samples' not in record:
            raise NoiseDetectionError(
                f'{work_dir}/noise_flags/epoch_{epoch}.json has no '
                'flagged_samples: it was not written by LabelCorrectionHook.')
        marks = flagged_keys(record)
        foreign = sorted(marks - index)
        if foreign:
            raise NoiseDetectionError(
                f'{work_dir}/noise_flags/epoch_{epoch}.json flags '
                f'{len(foreign)} image(s) that {manifest} does not list '
                f'(e.g. {foreign[0]}): give the manifest this run trained '
                'on.')
        flagged = np.array([p in marks for p in truth.paths], dtype=bool)
        scores = score_flags(truth, flagged, names)
        counts += flagged
        seen = list((record.get('seen_per_class') or {}).values())
        short = [f'{row["name"]} {seen[row["label"]]}/{row["records"]}'
                 for row in scores['per_class']
                 if row['label'] < len(seen)
                 and seen[row['label']] < row['records']]
        if short:
            notes.append(f'epoch {epoch}: fewer synthetic draws than records '
                         f'({", ".join(short)}; draws/records): a record '
                         'never drawn cannot be flagged. Did the run use '
                         'another target_count?')
        epochs.append(dict(epoch=epoch, **scores))
    return dict(work_dir=osp.abspath(work_dir),
                manifest=osp.abspath(manifest), kinds=truth.kind_names,
                epochs=epochs,
                flag_counts=flag_count_scores(truth, counts, len(epochs)),
                notes=notes)


def last_epoch_detection(record: RunRecord,
                         manifest: Optional[str] = None) -> Optional[dict]:
    """The last epoch's overall scores of a run (``epoch``, ``precision``,
    ``recall``, ``f1``, ``false_flag_rate``), against ``manifest`` or, by
    default, the run's own ``synthetic_manifest`` (a relative path is read
    from the current folder, as training does). None when the run has no
    noise flags, or (default only) its manifest is not a planted one."""
    if not record.noise_flags:
        return None
    if manifest is None:
        ds = train_dataset_cfg(record.config) or {}
        manifest = ds.get('synthetic_manifest')
        if not manifest or not is_planted_manifest(manifest):
            return None
    last = max(record.noise_flags)
    report = detection_report(record.work_dir, manifest,
                              {last: record.noise_flags[last]})
    epoch = report['epochs'][-1]
    return dict(epoch=last, **{k: epoch[k] for k in (
        'precision', 'recall', 'f1', 'false_flag_rate')})


def markdown_report(report: dict) -> str:
    """Per-epoch table, then the last epoch per class."""
    kinds = report['kinds']
    first = report['epochs'][0]
    planted = ('(' + ', '.join(f'{k} {first["per_kind"][k]["planted"]}'
                               for k in kinds)
               + f'); chance precision {fmt_share(first["chance_precision"])}%'
               if first['planted'] else
               '(a clean control: every flag is a false flag, so only the '
               'false-flag rate is informative)')
    lines = [
        f'# Noise detection: {report["work_dir"]}', '',
        f'Manifest `{report["manifest"]}`: {first["planted"]} of '
        f'{first["records"]} synthetic records planted {planted}. '
        'Flagged = flagged as noise in at least one draw of the epoch. '
        'Values in %.', '']
    head = (['epoch', 'flagged', 'precision', 'recall', 'F1',
             'false-flag rate (clean)']
            + [f'recall {k}' for k in kinds]
            + [f'precision {k}' for k in kinds])
    lines.append(render_markdown(head, (
        [e['epoch'], e['flagged']]
        + [fmt_share(e[m]) for m in OVERALL]
        + [fmt_share(e['per_kind'][k]['recall']) for k in kinds]
        + [fmt_share(e['per_kind'][k]['precision']) for k in kinds]
        for e in report['epochs'])))
    last = report['epochs'][-1]
    head = ('class', 'records', 'planted', 'flagged', 'precision', 'recall',
            'F1', 'false-flag rate')
    lines += ['', f'Last epoch ({last["epoch"]}) per class:', '',
              render_markdown(head, (
                  [row['name'], row['records'], row['planted'],
                   row['flagged']] + [fmt_share(row[m]) for m in OVERALL]
                  for row in last['per_class']))]
    counts = report['flag_counts']
    lines += ['', f'Epochs flagged (of {counts["epochs"]}) as a score: AUC '
              f'planted vs clean {_fmt_auc(counts["auc"])} (' + ', '.join(
                  f'{k} {_fmt_auc(counts["auc_per_kind"][k])}'
                  for k in kinds) + '); flagged in at least t epochs '
              '(down to the first t with recall 100%):', '']
    rows = []
    for row in counts['thresholds']:
        rows.append([row['min_epochs'], row['flagged']] + [
            fmt_share(row[m]) for m in ('precision', 'recall',
                                        'false_flag_rate')])
        if row['recall'] == 1.0:
            break
    lines.append(render_markdown(
        ('t', 'flagged', 'precision', 'recall', 'false-flag rate (clean)'),
        rows))
    if report['notes']:
        lines += [''] + [f'Note: {n}' for n in report['notes']]
    return '\n'.join(lines) + '\n'


def _fmt_auc(auc: Optional[float]) -> str:
    return '-' if auc is None else f'{auc:.3f}'


def _curve(ax, epochs, values, **kw):
    y = [np.nan if v is None else 100 * v for v in values]
    ax.plot(epochs, y, marker='o', markersize=3, **kw)


def detection_figure(report: dict, path: str) -> str:
    """Left: recall per epoch (all planted, one line per kind) and the
    false-flag rate of clean images; middle: precision (all, per kind) and
    the chance precision; right: precision against recall of "flagged in
    at least t epochs", t = E..1."""
    fig = Figure(figsize=FIGURE_SIZE, layout='constrained')
    left, right, counted = fig.subplots(1, 3)
    rows = report['epochs']
    x = [e['epoch'] for e in rows]
    for ax, metric in ((left, 'recall'), (right, 'precision')):
        _curve(ax, x, [e[metric] for e in rows], color='black',
               label='all planted')
        for kind in report['kinds']:
            _curve(ax, x, [e['per_kind'][kind][metric] for e in rows],
                   label=kind)
        ax.set_xlabel('epoch')
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f'{metric} (%)')
        ax.set_ylim(-2, 102)
        ax.grid(True, alpha=0.3)
    _curve(left, x, [e['false_flag_rate'] for e in rows], color='grey',
           linestyle='--', label='clean images flagged')
    chance = rows[0]['chance_precision']
    if chance is not None:
        right.axhline(100 * chance, color='grey', linestyle='--',
                      label='chance (planted share)')
        counted.axhline(100 * chance, color='grey', linestyle='--',
                        label='chance')
    counts = report['flag_counts']
    pts = [(row['recall'], row['precision'], row['min_epochs'])
           for row in counts['thresholds']
           if row['precision'] is not None and row['recall'] is not None]
    if pts:
        counted.plot([100 * r for r, _, _ in pts],
                     [100 * p for _, p, _ in pts], marker='o', markersize=3,
                     color='black', label=f'AUC {_fmt_auc(counts["auc"])}')
    else:
        counted.text(0.5, 0.5, 'no planted record', ha='center',
                     transform=counted.transAxes)
    # t labelled down to the first t with full recall (below it the points
    # pile up at recall 100%)
    full = next((i for i, (r, _, _) in enumerate(pts) if r == 1.0),
                len(pts) - 1)
    for r, p, t in pts[:full + 1]:
        counted.annotate(f't={t}', (100 * r, 100 * p), fontsize=7,
                         textcoords='offset points', xytext=(3, 3))
    counted.set_xlabel('recall (%)')
    counted.set_ylabel('precision (%)')
    counted.set_xlim(-2, 102)
    counted.set_ylim(-2, 102)
    counted.grid(True, alpha=0.3)
    counted.set_title(f'Flagged in >= t of {counts["epochs"]} epochs')
    counted.legend(fontsize=8)
    left.set_title('Planted images flagged (recall)')
    right.set_title('Flagged images that were planted (precision)')
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    fig.suptitle(f'Noise detection of {osp.basename(report["work_dir"])}')
    return save_figure(fig, path)


def write_detection_report(report: dict, out_dir: str) -> List[str]:
    """``FILES`` in ``out_dir``: the JSON report, the Markdown tables and
    the figure; returns their paths."""
    paths = write_json_and_markdown(report, markdown_report(report),
                                    out_dir, 'noise_detection')
    return paths + [detection_figure(report, osp.join(out_dir, FILES[2]))]
