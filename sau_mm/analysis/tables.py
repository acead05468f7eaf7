"""One row per run: what ran (config, backbone, data, IF, schedule), how far
it got, its accuracies, wall time, device and commit; as Markdown, CSV and
JSON.

Accuracy columns: ``top1_last`` = lt/top1 of the last evaluation,
``top1_best`` = the highest lt/top1 of all evaluations (papers report this
one) with its epoch; ``top5``, ``many``, ``medium``, ``few`` are those of
the best evaluation (``metrics_epoch``). A shot group without a class is
logged as text, so it is missing from scalars.json: it reads ``'no class in
this group'`` when the evaluation's per-class file shows no training count in
it (the dataset's ``shot_thresholds``).

Detector columns (SAU runs on a planted manifest, see
:mod:`sau_mm.analysis.noise_detection`): precision, recall, F1 and the
false-flag rate of clean synthetic images at the last epoch with noise
flags (``detector_epoch``); None otherwise. The Markdown table shows them
only when a row has them.
"""
import csv
import json
import os
import os.path as osp
from typing import Iterable, List, Optional, Sequence

from sau_mm.datasets.long_tail import (SHOT_GROUPS, check_shot_thresholds,
                                       shot_group)
from .run_records import RunRecord

EMPTY_GROUP = 'no class in this group'

COLUMNS = ('run', 'method', 'backbone', 'data', 'imbalance_factor',
           'synthetic', 'unit', 'done', 'planned', 'status', 'top1_last',
           'top1_last_epoch', 'top1_best', 'top1_best_epoch', 'top5', 'many',
           'medium', 'few', 'metrics_epoch', 'detector_epoch',
           'detector_precision', 'detector_recall', 'detector_f1',
           'detector_false_flag_rate', 'wall_s', 'device', 'commit',
           'work_dir')
DETECTOR = ('precision', 'recall', 'f1', 'false_flag_rate')


def train_dataset_cfg(config) -> Optional[dict]:
    """The LongTailSyntheticDataset config of ``train_dataloader.dataset``,
    looking through wrappers (``MixPartnerDataset.dataset``)."""
    ds = ((config.get('train_dataloader') or {}).get('dataset')
          if config is not None else None)
    while ds is not None and ds.get('type') != 'LongTailSyntheticDataset' \
            and 'dataset' in ds:
        ds = ds['dataset']
    return ds


def describe_data(ds: Optional[dict]) -> str:
    """``cifar10``, ``cifar10-jpeg`` (an image folder's name), ..."""
    if not ds:
        return '-'
    if ds.get('source') in ('cifar10', 'cifar100'):
        return ds['source']
    root = ds.get('data_root')
    return osp.basename(osp.normpath(root)) if root else str(ds.get('source'))


def describe_backbone(model: Optional[dict]) -> str:
    """Type plus widths or depth: ``ResNet32 (16/32/64)``, ``ResNet-50``."""
    backbone = (model or {}).get('backbone')
    if not backbone:
        return (model or {}).get('type', '-')
    kind = backbone.get('type', '?')
    if 'base_channels' in backbone and kind == 'ResNet32':
        b = backbone['base_channels']
        return f'{kind} ({b}/{2 * b}/{4 * b})'
    if 'depth' in backbone:
        groups = backbone.get('groups')
        return f'{kind}-{backbone["depth"]}' + (f' ({groups} groups)'
                                                 if groups else '')
    return kind


def shot_groups_at(record: RunRecord, epoch: Optional[int],
                   ds: Optional[dict]) -> dict:
    """many / medium / few of evaluation ``epoch``; an empty group (no
    class of the per-class file's counts in it) is EMPTY_GROUP."""
    metrics = record.val.get(epoch, {}) if epoch is not None else {}
    out = {g: metrics.get(f'lt/{g}') for g in SHOT_GROUPS}
    counts = (record.per_class.get(epoch) or {}).get('train_class_counts')
    if counts:
        thresholds = check_shot_thresholds((ds or {}).get('shot_thresholds'))
        present = {shot_group(n, **thresholds) for n in counts}
        out.update({g: EMPTY_GROUP for g in SHOT_GROUPS
                    if out[g] is None and g not in present})
    return out


def run_row(record: RunRecord, detection: Optional[dict] = None) -> dict:
    """The table row of one run (keys: ``COLUMNS``); ``detection``: the
    run's ``noise_detection.last_epoch_detection``."""
    ds = train_dataset_cfg(record.config)
    best, last = record.best_epoch, record.last_epoch
    at_best = record.val.get(best, {}) if best is not None else {}
    at_last = record.val.get(last, {}) if last is not None else {}
    planned = record.planned
    status = 'finished' if record.finished else schedule_text(
        record.done, planned, record.unit, finished=False)
    return dict(
        run=record.name,
        method=record.config_name,
        backbone=describe_backbone(record.config.get('model')
                                   if record.config else None),
        data=describe_data(ds),
        imbalance_factor=(ds or {}).get('imbalance_factor'),
        synthetic=(ds or {}).get('synthetic_manifest'),
        unit=record.unit, done=record.done, planned=planned, status=status,
        top1_last=at_last.get('lt/top1'), top1_last_epoch=last,
        top1_best=at_best.get('lt/top1'), top1_best_epoch=best,
        top5=at_best.get('lt/top5'), **shot_groups_at(record, best, ds),
        metrics_epoch=best,
        detector_epoch=(detection or {}).get('epoch'),
        **{f'detector_{k}': (detection or {}).get(k) for k in DETECTOR},
        wall_s=record.wall_s, device=record.device,
        commit=record.commit, work_dir=osp.abspath(record.work_dir))


def fmt_pct(value) -> str:
    if value is None:
        return '-'
    if isinstance(value, str):          # EMPTY_GROUP
        return 'no class'
    return f'{value:.2f}'


def fmt_duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return '-'
    s = int(round(seconds))
    if s < 3600:
        return f'{s // 60}m {s % 60:02d}s'
    return f'{s // 3600}h {s % 3600 // 60:02d}m'


def schedule_text(done: int, planned: Optional[int], unit: str,
                  finished: bool, config_planned: Optional[int] = None
                  ) -> str:
    """``10/200 epochs``, ``unfinished (3/? epochs)`` (planned unknown);
    with ``config_planned`` when the run planned another count:
    ``10/200 epochs (config: 400)``."""
    text = f'{done}/{"?" if planned is None else planned} {unit}s'
    if config_planned and planned != config_planned:
        text += f' (config: {config_planned})'
    return text if finished else f'unfinished ({text})'


def render_markdown(head: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A Markdown table without a final newline: the header, the ``|---|``
    line and one line per row of cells; a ``|`` in a cell becomes ``/``."""
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '|'.join('---' for _ in head) + '|']
    lines += ['| ' + ' | '.join(str(c).replace('|', '/') for c in cells)
              + ' |' for cells in rows]
    return '\n'.join(lines)


def fmt_share(value: Optional[float]) -> str:
    """A share in [0, 1] as a percentage with one decimal."""
    return '-' if value is None else f'{100 * value:.1f}'


def _detector_cells(row: dict) -> tuple:
    if row['detector_epoch'] is None:
        return '-', '-'
    return (f'{fmt_share(row["detector_precision"])} / '
            f'{fmt_share(row["detector_recall"])} ({row["detector_epoch"]})',
            fmt_share(row['detector_false_flag_rate']))


def markdown_table(rows: Sequence[dict]) -> str:
    """The Markdown table of ``rows`` (run_row dicts)."""
    detector = any(r['detector_epoch'] is not None for r in rows)
    head = ('run', 'method (config)', 'backbone', 'data', 'IF',
            'epochs done / planned', 'top-1 last', 'top-1 best (epoch)',
            'top-5', 'many', 'medium', 'few') + (
                ('detector precision / recall % (epoch)',
                 'clean synthetic flagged %') if detector else ()) + (
                'wall time', 'device', 'commit')

    def cells(r):
        data = r['data'] + (' + synthetic' if r['synthetic'] else '')
        best = ('-' if r['top1_best'] is None else
                f'{r["top1_best"]:.2f} ({r["top1_best_epoch"]})')
        return (r['run'], r['method'], r['backbone'], data,
                '-' if r['imbalance_factor'] is None
                else f'{r["imbalance_factor"]:g}',
                schedule_text(r['done'], r['planned'], r['unit'],
                              r['status'] == 'finished'),
                fmt_pct(r['top1_last']), best,
                fmt_pct(r['top5']), fmt_pct(r['many']),
                fmt_pct(r['medium']), fmt_pct(r['few'])) + (
                    _detector_cells(r) if detector else ()) + (
                fmt_duration(r['wall_s']), r['device'] or '-',
                r['commit'] or '-')

    return render_markdown(head, map(cells, rows)) + '\n'


def write_csv(rows: Sequence[dict], path: str) -> None:
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: '' if r[k] is None else r[k]
                             for k in COLUMNS})


def write_json(rows: List[dict], path: str) -> None:
    with open(path, 'w') as f:
        json.dump(rows, f, indent=1)


def write_json_and_markdown(report, markdown_text: str, out_dir: str,
                            stem: str) -> List[str]:
    """``out_dir/<stem>.json`` (``report``) and ``<stem>.md``; their
    paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = [osp.join(out_dir, f'{stem}.{ext}') for ext in ('json', 'md')]
    write_json(report, paths[0])
    with open(paths[1], 'w') as f:
        f.write(markdown_text)
    return paths
