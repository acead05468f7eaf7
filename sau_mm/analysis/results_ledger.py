"""The results ledger: one small JSON per finished run worth keeping
(``results/*.json``, ``"kind": "run"``), rendered into the README between
``<!-- results:start -->`` and ``<!-- results:end -->``.

A record holds what ran (config, backbone, data, IF, synthetic manifest, its
sources and the synthetic images the run drew from it), the schedule (epochs
done / planned, and the config file's own ``max_epochs``, so a short schedule
is visible), device, precision (fp32 or ``--amp``'s bf16 autocast, from the
dumped config), commit and command line (RunInfoHook), the metrics
(top-1 last and best with its epoch, top-5 / many / medium / few of the best
evaluation), the per-class top-1 of the best and the last evaluation with the
classes' real training counts (``per_class``, None when the run wrote no
per-class file; it outlives the work dir, so :func:`per_class_figure` draws
it from the ledger alone), wall time, and when it was recorded. CPU runs and
GPU runs are rendered in separate tables. Other JSON files in the folder
(e.g. GPU-check summaries) have no ``"kind": "run"`` and are skipped.
"""
import datetime
import glob
import json
import os
import os.path as osp
import re
from collections import Counter
from typing import List, Optional

from mmengine.config import Config

from sau_mm.datasets.manifest import read_manifest
from sau_mm.datasets.planted_noise import PLANTED_KEY
from sau_mm.utils.fileio import atomic_write
from .figures import per_class_curves
from .run_records import load_run
from .tables import (fmt_duration, fmt_pct, render_markdown, run_row,
                     schedule_text)

KIND = 'run'
START, END = '<!-- results:start -->', '<!-- results:end -->'
EXPERIMENT_PREFIX = 'experiments/'
METRICS = ('top1_last', 'top1_last_epoch', 'top1_best', 'top1_best_epoch',
           'top5', 'many', 'medium', 'few')


class LedgerError(ValueError):
    """A run or README the ledger cannot take; the message says why."""


def device_class(device: Optional[str]) -> str:
    """'cpu' when the device is a CPU (or unknown), else 'gpu'."""
    return 'cpu' if not device or device.upper().startswith('CPU') else 'gpu'


def _full_schedule(config_name: str, repo_root: str, unit: str
                   ) -> Optional[int]:
    """max_epochs (max_iters) of ``configs/<config_name>.py``, if there."""
    path = osp.join(repo_root, 'configs', config_name + '.py')
    if not osp.isfile(path):
        return None
    train_cfg = Config.fromfile(path, import_custom_modules=False).get(
        'train_cfg') or {}
    return train_cfg.get(f'max_{unit}s')


def _synthetic(manifest: Optional[str], drawn: Optional[int]
               ) -> Optional[dict]:
    """The manifest's records (``images``, by source and planted kind) and
    the synthetic images the training set drew from it (``drawn``: fewer
    when the fill needs fewer than the manifest holds)."""
    if not manifest:
        return None
    out = dict(manifest=manifest, drawn=drawn)
    if osp.isfile(manifest):
        records = read_manifest(manifest)
        out.update(images=len(records),
                   sources=dict(Counter(r.source for r in records)))
        planted = Counter(r.extra[PLANTED_KEY] for r in records
                          if r.extra.get(PLANTED_KEY))
        if planted:
            out['planted'] = dict(planted)
    return out


def _precision(config) -> Optional[str]:
    """'bf16 autocast' (``--amp``: BF16AutocastOptimWrapper), 'fp16 amp'
    (MMEngine's AmpOptimWrapper) or 'fp32', from the dumped config."""
    if config is None:
        return None
    wrapper = (config.get('optim_wrapper') or {}).get('type',
                                                      'OptimWrapper')
    return {'BF16AutocastOptimWrapper': 'bf16 autocast',
            'AmpOptimWrapper': 'fp16 amp'}.get(wrapper, 'fp32')


def _precision_text(r: dict) -> str:
    """The record's precision; records older than the field: from the
    command line (``--amp`` was the only way to change it)."""
    if r.get('precision'):
        return r['precision']
    if r.get('command'):
        return 'bf16 autocast' if ' --amp' in r['command'] else 'fp32'
    return '-'


def _command(record) -> Optional[str]:
    """The command line of the run's latest start (RunInfoHook)."""
    sessions = (record.run_info or {}).get('sessions') or [{}]
    argv = sessions[-1].get('argv')
    return ' '.join(argv) if argv else None


def _per_class(record, best: Optional[int], last: Optional[int]
               ) -> Optional[dict]:
    """Per-class top-1 at the best and the last evaluation, or None when
    either has no per-class file."""
    at_best, at_last = record.per_class.get(best), record.per_class.get(last)
    if not at_best or not at_last:
        return None
    return dict(train_class_counts=at_best.get('train_class_counts'),
                top1_best=[round(v, 2) for v in at_best['per_class_top1']],
                top1_last=[round(v, 2) for v in at_last['per_class_top1']])


def run_result(work_dir: str, repo_root: str = '.',
               allow_unfinished: bool = False) -> dict:
    """The ledger record of a work dir (module docstring)."""
    record = load_run(work_dir)
    row = run_row(record)
    if not record.finished and not allow_unfinished:
        raise LedgerError(
            f'{work_dir} is {row["status"]}: the ledger keeps finished runs '
            '(finish it with tools/train.py CONFIG --resume, or pass '
            '--allow-unfinished).')
    if row['top1_best'] is None:
        raise LedgerError(f'{work_dir} has no evaluation (lt/top1) to '
                          'record.')
    dirty = [s.get('start') for s in (record.run_info or {}).get(
        'sessions', []) if s.get('dirty')]
    if dirty:
        raise LedgerError(
            f'{work_dir}: the start(s) at {", ".join(map(str, dirty))} ran '
            'with uncommitted changes (+dirty), so its commit does not '
            'reproduce it: commit the code, then rerun (or resume a run '
            'started from the committed tree).')
    config_planned = _full_schedule(row['method'], repo_root, row['unit'])
    if config_planned and row['planned'] and \
            row['planned'] < config_planned:
        raise LedgerError(
            f'{work_dir} planned {row["planned"]} of the '
            f'{config_planned} {row["unit"]}s of configs/{row["method"]}.py '
            '(shortened with --cfg-options): a smoke check, not a result. '
            'Record runs of a config\'s own schedule; a reduced or '
            'diagnostic protocol is a config of its own '
            '(configs/experiments/).')
    return dict(
        kind=KIND, run=row['run'], config=row['method'],
        backbone=row['backbone'], data=row['data'],
        imbalance_factor=row['imbalance_factor'],
        synthetic=_synthetic(row['synthetic'], None if record.train_images
                             is None else record.train_images[1]),
        schedule=dict(unit=row['unit'], done=row['done'],
                      planned=row['planned'], finished=record.finished,
                      config_planned=config_planned),
        device=row['device'], device_class=device_class(row['device']),
        precision=_precision(record.config), commit=row['commit'],
        command=_command(record),
        metrics={k: row[k] for k in METRICS},
        per_class=_per_class(record, row['top1_best_epoch'],
                             row['top1_last_epoch']),
        wall_s=row['wall_s'], recorded=datetime.date.today().isoformat())


def record_result(work_dir: str, results_dir: str, repo_root: str = '.',
                  allow_unfinished: bool = False) -> str:
    """Write the record of ``work_dir`` to
    ``results_dir/<config with __ for />__<run>.json`` (recording a run
    again replaces its file); returns the path."""
    result = run_result(work_dir, repo_root, allow_unfinished)
    slug = re.sub(r'[^A-Za-z0-9_.-]+', '_',
                  f'{result["config"].replace("/", "__")}__{result["run"]}')
    os.makedirs(results_dir, exist_ok=True)
    path = osp.join(results_dir, f'{slug}.json')
    with open(path, 'w') as f:
        json.dump(result, f, indent=1)
        f.write('\n')
    return path


def _read_json(path: str):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as e:
        raise LedgerError(f'{path}: cannot be read ({e}).') from e
    except json.JSONDecodeError as e:
        raise LedgerError(f'{path}: not JSON ({e}); fix or delete it.') from e


def read_ledger(results_dir: str) -> List[dict]:
    """Every run record (``"kind": "run"``) in ``results_dir``, sorted by
    data, IF, config, run; other JSON files are skipped."""
    out = []
    for path in sorted(glob.glob(osp.join(results_dir, '*.json'))):
        data = _read_json(path)
        if isinstance(data, dict) and data.get('kind') == KIND:
            out.append(data)
    return sorted(out, key=lambda r: (r['data'], r['imbalance_factor'] or 0,
                                      r['config'], r['run']))


def _synthetic_text(r: dict) -> str:
    syn = r.get('synthetic')
    if not syn:
        return '-'
    sources = syn.get('sources')
    if sources:
        text = ', '.join(f'{k} {v}' for k, v in sorted(sources.items()))
        planted = syn.get('planted')
        if planted:
            text += ' (planted: ' + ', '.join(
                f'{k} {v}' for k, v in sorted(planted.items())) + ')'
        drawn = syn.get('drawn')
        if drawn is not None and drawn != syn.get('images'):
            text = f'{drawn} drawn of {text}'
        return text
    return osp.basename(osp.dirname(syn['manifest'])) or syn['manifest']


def ledger_table(records: List[dict]) -> str:
    head = ('config', 'run', 'backbone', 'data', 'IF', 'synthetic', 'schedule',
            'top-1 best (epoch)', 'top-1 last', 'top-5', 'many', 'medium',
            'few', 'wall time', 'device', 'precision', 'commit',
            'recorded')

    def cells(r):
        m, s = r['metrics'], r['schedule']
        best = ('-' if m['top1_best'] is None else
                f'{m["top1_best"]:.2f} ({m["top1_best_epoch"]})')
        return (f'`{r["config"]}`', r['run'], r['backbone'], r['data'],
                '-' if r['imbalance_factor'] is None
                else f'{r["imbalance_factor"]:g}', _synthetic_text(r),
                schedule_text(s['done'], s['planned'], s['unit'],
                              s['finished'], s.get('config_planned')),
                best, fmt_pct(m['top1_last']),
                fmt_pct(m['top5']), fmt_pct(m['many']),
                fmt_pct(m['medium']), fmt_pct(m['few']),
                fmt_duration(r['wall_s']), r['device'] or '-',
                _precision_text(r), r['commit'] or '-', r['recorded'])

    return render_markdown(head, map(cells, records))


def is_experiment(r: dict) -> bool:
    """A run of an experiment config (``configs/experiments/``): a reduced
    or diagnostic protocol rather than a method's published schedule."""
    return r['config'].startswith(EXPERIMENT_PREFIX)


def render_results(records: List[dict]) -> str:
    """The README results section: GPU runs, CPU full-schedule runs, then
    experiment runs (each table only when it has a run)."""
    experiments = [r for r in records if is_experiment(r)]
    full = [r for r in records if not is_experiment(r)]
    gpu = [r for r in full if r['device_class'] == 'gpu']
    cpu = [r for r in full if r['device_class'] == 'cpu']
    parts = ['Written by `python tools/analysis/results_table.py` from '
             '`results/*.json` (record a run with `python '
             'tools/analysis/record_result.py WORK_DIR`); do not edit by '
             'hand. run: the work dir\'s name. Accuracies in %, on the '
             'balanced test set; top-5, many, '
             'medium, few at the best evaluation; many / medium / few: more '
             'than 100, 20 to 100, fewer than 20 real training images '
             '(the run\'s thresholds).']
    if gpu:
        parts += ['**GPU runs**', ledger_table(gpu)]
    if cpu:
        parts += ['**CPU runs** (the config\'s own schedule)',
                  ledger_table(cpu)]
    if experiments:
        parts += ['**Experiments** (configs under `configs/experiments/`: '
                  'reduced or diagnostic protocols, each stating its '
                  'schedule and data; compare them with runs of the same '
                  'experiment, not with the baselines above)',
                  ledger_table(experiments)]
    if not records:
        parts.append('No run recorded yet.')
    return '\n\n'.join(parts) + '\n'


def update_readme(readme: str, results_dir: str) -> int:
    """Replace the text between the markers of ``readme`` with
    :func:`render_results` of ``results_dir``; returns the run count."""
    with open(readme) as f:
        text = f.read()
    if text.count(START) != 1 or text.count(END) != 1 or \
            text.index(START) > text.index(END):
        raise LedgerError(f'{readme} needs exactly one {START} line '
                          f'followed by one {END} line where the results '
                          'go.')
    records = read_ledger(results_dir)
    head, rest = text.split(START)
    _, tail = rest.split(END)
    new = f'{head}{START}\n{render_results(records)}{END}{tail}'
    atomic_write(readme, new)
    return len(records)


def per_class_figure(record_files: List[str], out: str,
                     labels: Optional[List[str]] = None,
                     at: str = 'best') -> str:
    """The per-class top-1 of ledger records (``at`` their best or last
    evaluation) against their classes' real training counts, one line per
    record (:func:`figures.per_class_curves`); labels default to the run
    names. Returns ``out``."""
    if at not in ('best', 'last'):
        raise LedgerError(f'at must be "best" or "last", got {at!r}.')
    if labels is not None and len(labels) != len(record_files):
        raise LedgerError(f'{len(labels)} labels for {len(record_files)} '
                          'records: give one label per record.')
    series = []
    for n, path in enumerate(record_files):
        record = _read_json(path)
        if not isinstance(record, dict) or record.get('kind') != KIND:
            raise LedgerError(f'{path} is not a run record of the ledger '
                              '(written by record_result.py).')
        per_class = record.get('per_class')
        if not per_class:
            raise LedgerError(
                f'{path} holds no per-class accuracy (recorded before the '
                'ledger kept it, or the run wrote no per-class file): '
                'record the run again from its work dir, or rerun it.')
        metrics = record['metrics']
        label = labels[n] if labels else record['run']
        series.append((f'{label}: top-1 {metrics[f"top1_{at}"]:.2f} '
                       f'(epoch {metrics[f"top1_{at}_epoch"]})',
                       per_class['train_class_counts'],
                       per_class[f'top1_{at}']))
    return per_class_curves(
        series, out, f'Per-class top-1 at each run\'s {at} evaluation vs '
        'class size')
