"""The run-comparison figures (PNG, ``DPI`` dots per inch, fixed sizes, so a
figure of ``size`` inches is ``size * DPI`` pixels):

- ``per_class_vs_count.png``: per-class top-1 of each run's best evaluation
  against the class's real training count (log x), runs overlaid;
- ``shot_groups.png``: top-1, many / medium / few of each run's best
  evaluation as grouped bars;
- ``learning_curves.png``: every logged loss term against the iteration and
  top-1 per evaluation against the epoch, runs overlaid;
- ``noise_flags_<run>.png`` (SAU runs): per epoch and class, the fraction of
  synthetic samples the label correction flagged as noise.

Drawn on ``matplotlib.figure.Figure`` with the Agg canvas: no pyplot state,
no display needed.
"""
import os.path as osp
import re
from typing import Dict, List, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .run_records import RunRecord
from .tables import shot_groups_at, train_dataset_cfg

DPI = 100
PER_CLASS_SIZE = (9, 6)
SHOT_GROUPS_SIZE = (9, 5)
CURVE_PANEL = (5, 3.6)
NOISE_SIZE = (9, 6)
MARKERS = 'osD^v<>PX*'


def run_labels(records: Sequence[RunRecord]) -> List[str]:
    """Legend names: the work dir's folder name, with its parent folder
    when two runs share it."""
    names = [r.name for r in records]
    return [n if names.count(n) == 1 else
            f'{osp.basename(osp.dirname(osp.abspath(r.work_dir)))}/{n}'
            for n, r in zip(names, records)]


def save_figure(fig: Figure, path: str) -> str:
    """Render ``fig`` with the Agg canvas to ``path`` at ``DPI``."""
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI)
    return path


def per_class_curves(series: Sequence[tuple], path: str,
                     title: str) -> str:
    """x: real training count of the class (log), y: its top-1; one line per
    ``(label, counts, top1)`` of ``series``, classes from largest to
    smallest."""
    fig = Figure(figsize=PER_CLASS_SIZE, layout='constrained')
    ax = fig.add_subplot()
    for k, (label, counts, acc) in enumerate(series):
        counts = np.asarray(counts, dtype=float)
        acc = np.asarray(acc, dtype=float)
        order = np.argsort(-counts, kind='stable')
        ax.plot(counts[order], acc[order], marker=MARKERS[k % len(MARKERS)],
                linestyle='-', linewidth=0.8, markersize=4, alpha=0.85,
                label=label)
    ax.set_xscale('log')
    ax.set_xlabel('real training images of the class (log scale)')
    ax.set_ylabel('per-class top-1 accuracy (%)')
    ax.set_ylim(-2, 102)
    ax.set_title(title)
    ax.grid(True, which='both', alpha=0.3)
    if series:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, 'no per-class accuracy in these runs',
                ha='center', transform=ax.transAxes)
    return save_figure(fig, path)


def per_class_vs_count(records: Sequence[RunRecord], labels: Sequence[str],
                       path: str) -> str:
    """:func:`per_class_curves` of each run's best evaluation (the last
    when no evaluation has a top-1); runs without a per-class file are
    left out."""
    series = []
    for rec, label in zip(records, labels):
        epoch = rec.best_epoch or rec.last_epoch
        data = rec.per_class.get(epoch)
        if data and data.get('train_class_counts'):
            series.append((f'{label} (epoch {epoch})',
                           data['train_class_counts'],
                           data['per_class_top1']))
    return per_class_curves(
        series, path,
        'Per-class top-1 at each run\'s best evaluation vs class size')


def shot_groups(records: Sequence[RunRecord], labels: Sequence[str],
                path: str) -> str:
    """Grouped bars: all / many / medium / few top-1 per run (best
    evaluation); a group without a class (or value) reads 'n/a'."""
    names = ('all', 'many', 'medium', 'few')
    fig = Figure(figsize=SHOT_GROUPS_SIZE, layout='constrained')
    ax = fig.add_subplot()
    width = 0.8 / max(len(records), 1)
    x = np.arange(len(names))
    for k, (rec, label) in enumerate(zip(records, labels)):
        best = rec.best_epoch
        groups = shot_groups_at(rec, best, train_dataset_cfg(rec.config))
        values = [rec.val.get(best, {}).get('lt/top1')] + [
            groups[g] for g in names[1:]]
        heights = [v if isinstance(v, (int, float)) else np.nan
                   for v in values]
        pos = x + (k - (len(records) - 1) / 2) * width
        bars = ax.bar(pos, heights, width, label=label)
        ax.bar_label(bars, labels=[f'{h:.1f}' if h == h else '' for h in
                                   heights], fontsize=7, padding=1)
        for p, h in zip(pos, heights):
            if h != h:                      # nan: empty group or no value
                ax.text(p, 1, 'n/a', ha='center', va='bottom', fontsize=7)
    ax.set_xticks(x, names)
    ax.set_xlim(-0.5, len(names) - 0.5)
    ax.set_xlabel('class group by real training count')
    ax.set_ylabel('top-1 accuracy (%)')
    ax.set_ylim(0, 105)
    ax.set_title('Top-1 by shot group at each run\'s best evaluation')
    if records:
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def learning_curves(records: Sequence[RunRecord], labels: Sequence[str],
                    path: str) -> str:
    """One panel per loss term (x: iteration) and one of top-1 per
    evaluation (x: epoch, or iteration for iteration-based runs)."""
    terms: List[str] = []
    for rec in records:
        terms += [t for t in rec.loss_terms() if t not in terms]
    panels = len(terms) + 1
    cols = min(3, panels)
    rows = -(-panels // cols)
    fig = Figure(figsize=(CURVE_PANEL[0] * cols, CURVE_PANEL[1] * rows),
                 layout='constrained')
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, term in zip(axes, terms):
        for rec, label in zip(records, labels):
            pts = [(line['iter'], line[term]) for line in rec.train_lines
                   if term in line and 'iter' in line]
            if pts:
                ax.plot(*zip(*pts), label=label, linewidth=1)
        ax.set_title(term)
        ax.set_xlabel('iteration')
        ax.set_ylabel('loss')
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    ax = axes[len(terms)]
    for k, (rec, label) in enumerate(zip(records, labels)):
        pts = [(e, v['lt/top1']) for e, v in sorted(rec.val.items())
               if isinstance(v.get('lt/top1'), (int, float))]
        if pts:
            ax.plot(*zip(*pts), marker=MARKERS[k % len(MARKERS)],
                    markersize=3, label=label, linewidth=1)
    units = {rec.unit for rec in records} or {'epoch'}
    ax.set_title('top-1 per evaluation')
    ax.set_xlabel(' / '.join(sorted(units)))
    ax.set_ylabel('top-1 accuracy (%)')
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    for ax in axes[panels:]:
        ax.set_visible(False)
    fig.suptitle('Learning curves')
    return save_figure(fig, path)


def noise_fraction_matrix(record: RunRecord):
    """(epochs, class names, F) with F[c, e] = flagged / seen synthetic
    samples of class c in epoch e (nan where none was seen)."""
    epochs = sorted(record.noise_flags)
    classes = list(record.noise_flags[epochs[0]]['seen_per_class'])
    frac = np.full((len(classes), len(epochs)), np.nan)
    for j, e in enumerate(epochs):
        flags = record.noise_flags[e]
        for i, name in enumerate(classes):
            seen = flags['seen_per_class'].get(name, 0)
            if seen:
                frac[i, j] = flags['flagged_per_class'].get(name, 0) / seen
    return epochs, classes, frac


def noise_flags(record: RunRecord, label: str, path: str) -> str:
    """Heat map: classes (rows, in class order) x epochs, the fraction of
    synthetic samples flagged as noise."""
    epochs, classes, frac = noise_fraction_matrix(record)
    fig = Figure(figsize=NOISE_SIZE, layout='constrained')
    ax = fig.add_subplot()
    image = ax.imshow(frac * 100, aspect='auto', cmap='viridis', vmin=0,
                      interpolation='nearest')
    fig.colorbar(image, ax=ax, label='synthetic samples flagged (%)')
    step_x = max(1, len(epochs) // 20)
    ax.set_xticks(range(0, len(epochs), step_x),
                  [str(e) for e in epochs[::step_x]])
    step_y = max(1, len(classes) // 25)
    ax.set_yticks(range(0, len(classes), step_y), classes[::step_y],
                  fontsize=7)
    ax.set_xlabel('epoch')
    ax.set_ylabel('class')
    ax.set_title(f'{label}: synthetic samples flagged as noise per class '
                 'and epoch')
    return save_figure(fig, path)


def comparison_figures(records: Sequence[RunRecord], out_dir: str
                       ) -> Dict[str, str]:
    """Write every figure of ``records`` into ``out_dir``; name -> path."""
    labels = run_labels(records)
    out = dict(
        per_class_vs_count=per_class_vs_count(
            records, labels, osp.join(out_dir, 'per_class_vs_count.png')),
        shot_groups=shot_groups(records, labels,
                                osp.join(out_dir, 'shot_groups.png')),
        learning_curves=learning_curves(
            records, labels, osp.join(out_dir, 'learning_curves.png')))
    for rec, label in zip(records, labels):
        if rec.noise_flags:
            safe = re.sub(r'[^A-Za-z0-9_.-]+', '_', label)
            out[f'noise_flags_{safe}'] = noise_flags(
                rec, label, osp.join(out_dir, f'noise_flags_{safe}.png'))
    return out
