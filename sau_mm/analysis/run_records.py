"""Read one MMEngine work dir of this toolkit into a :class:`RunRecord`.

What a work dir holds (README, "Training and testing")::

    WORK/<config name>.py                the dumped config
    WORK/run_info.json                   RunInfoHook: commit, device, wall time
    WORK/epoch_N.pth, best_lt_top1_epoch_N.pth, iter_N.pth, last_checkpoint
    WORK/noise_flags/epoch_N.json        SAU: LabelCorrectionHook
    WORK/<ts>/<ts>.log                   one folder per start (resume: more);
                                         its training-set line gives the
                                         real + synthetic images drawn
    WORK/<ts>/vis_data/scalars.json      one JSON per line: training lines
                                         (loss terms, lr, epoch, iter) and
                                         validation lines (lt/*, step = epoch)
    WORK/<ts>/per_class_accuracy_N.json  N-th evaluation: per_class_top1,
                                         train_class_counts

Resumed runs: the start folders are merged in time order, a later folder
replacing the epochs (iterations for iteration-based runs) it repeats. A
fresh start in a work dir that held an earlier run (run_info.json's
``earlier_runs``): the start folders from before its first start, and the
checkpoints and noise flags written before it, are the earlier run's and
are left out.
Within a folder, the n-th per-class file belongs to the n-th validation line.
"""
import datetime
import glob
import json
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config

from sau_mm.engine.hooks.run_info_hook import config_name, read_run_info

TIMESTAMP = re.compile(r'^\d{8}_\d{6}$')
CHECKPOINT = re.compile(r'(?:^|_)(epoch|iter)_(\d+)\.pth$')
LOG_TIME = re.compile(
    r'^(?:(\d{4})/)?(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2}) - ')
# LongTailSyntheticDataset's summary line of the training set
TRAIN_SET = re.compile(
    r'split=train\b[^)]*\): (\d+) real \+ (\d+) synthetic images')
VAL_PREFIX = 'lt/'
NOT_LOSS_KEYS = ('lr', 'data_time', 'time', 'epoch', 'iter', 'step',
                 'memory', 'base_lr')


class WorkDirError(ValueError):
    """A folder that is not a usable work dir; the message says why."""


@dataclass
class RunRecord:
    """Everything the tables and figures need from one work dir."""
    work_dir: str
    config: Optional[Config]
    config_name: str
    unit: str                                   # 'epoch' or 'iter'
    planned: Optional[int]
    train_lines: List[dict]                     # merged, in step order
    val: Dict[int, dict]                        # epoch -> lt/* metrics
    per_class: Dict[int, dict]                  # epoch -> per-class file
    checkpoints: List[int]                      # epochs (or iters) saved
    noise_flags: Dict[int, dict]                # epoch -> noise_flags file
    run_info: Optional[dict]
    sessions: List[str] = field(default_factory=list)
    log_wall_s: Optional[float] = None
    log_device: Optional[str] = None
    train_images: Optional[Tuple[int, int]] = None  # (real, synthetic)

    @property
    def name(self) -> str:
        return osp.basename(osp.normpath(self.work_dir))

    @property
    def done(self) -> int:
        """Epochs (iterations) finished: the last one with a checkpoint or
        an evaluation; a training line of epoch e proves e - 1 finished
        (iteration-based: the last logged iteration)."""
        last_line = 0
        if self.train_lines:
            last = self.train_lines[-1]
            last_line = (last['epoch'] - 1 if self.unit == 'epoch'
                         else last['iter'])
        return max([last_line, *self.checkpoints, *self.val])

    @property
    def finished(self) -> bool:
        return self.planned is not None and self.done >= self.planned

    @property
    def best_epoch(self) -> Optional[int]:
        """The evaluation with the highest lt/top1 (the first of ties)."""
        scored = [(e, v['lt/top1']) for e, v in sorted(self.val.items())
                  if isinstance(v.get('lt/top1'), (int, float))]
        if not scored:
            return None
        best = max(s for _, s in scored)
        return next(e for e, s in scored if s == best)

    @property
    def last_epoch(self) -> Optional[int]:
        return max(self.val) if self.val else None

    @property
    def wall_s(self) -> Optional[float]:
        """Sum of the RunInfoHook sessions' wall times; without
        run_info.json, the span of each start folder's log, summed."""
        if self.run_info and self.run_info.get('sessions'):
            return sum(s.get('wall_s') or 0.0
                       for s in self.run_info['sessions'])
        return self.log_wall_s

    def _latest_session(self) -> dict:
        if self.run_info and self.run_info.get('sessions'):
            return self.run_info['sessions'][-1]
        return {}

    @property
    def device(self) -> Optional[str]:
        session = self._latest_session()
        if session.get('device'):
            n = session.get('world_size') or 1
            return (session['device'] if n == 1
                    else f'{n} x {session["device"]}')
        return self.log_device

    @property
    def commit(self) -> Optional[str]:
        """Short sha of the latest start, '+dirty' when files differed."""
        session = self._latest_session()
        if not session.get('commit'):
            return None
        return session['commit'][:10] + ('+dirty' if session.get('dirty')
                                         else '')

    def loss_terms(self) -> List[str]:
        """Every logged loss term (``loss``, ``loss_*`` ..., in order seen)."""
        terms = []
        for line in self.train_lines:
            for k, v in line.items():
                if k.startswith('loss') and k not in terms and \
                        isinstance(v, (int, float)):
                    terms.append(k)
        return terms


def load_run(work_dir: str) -> RunRecord:
    """Parse ``work_dir`` (module docstring). Raises WorkDirError when it
    holds no start folder and no dumped config."""
    if not osp.isdir(work_dir):
        raise WorkDirError(f'{work_dir}: no such folder (give the --work-dir '
                           'of a training run).')
    run_info = read_run_info(work_dir)
    since = _current_run_start(run_info)
    first = since.strftime('%Y%m%d_%H%M%S') if since else ''
    sessions = sorted(d for d in os.listdir(work_dir)
                      if TIMESTAMP.match(d) and d >= first
                      and osp.isdir(osp.join(work_dir, d)))
    config_file = _dumped_config(work_dir)
    if not sessions and config_file is None:
        raise WorkDirError(
            f'{work_dir} is not a training work dir: it has neither a '
            '<timestamp>/ log folder nor a dumped <config>.py.')
    config = (Config.fromfile(config_file, import_custom_modules=False)
              if config_file else None)
    train_cfg = (config.get('train_cfg') or {}) if config else {}
    unit = 'iter' if train_cfg.get('max_iters') and not \
        train_cfg.get('max_epochs') else 'epoch'
    planned = train_cfg.get('max_iters' if unit == 'iter' else 'max_epochs')
    session = (run_info or {}).get('sessions') or [{}]
    if planned is None:
        planned = session[-1].get(f'max_{unit}s')
    name = session[-1].get('config') or (
        config_name(config_file) if config_file else sessions[-1])

    train: Dict[int, List[dict]] = {}
    val: Dict[int, dict] = {}
    per_class: Dict[int, dict] = {}
    wall, device, train_images = 0.0, None, None
    for ts in sessions:
        folder = osp.join(work_dir, ts)
        lines = read_scalars(osp.join(folder, 'vis_data', 'scalars.json'))
        session_train: Dict[int, List[dict]] = {}
        val_lines = []
        for line in lines:
            if any(k.startswith(VAL_PREFIX) for k in line):
                val_lines.append(line)
            elif 'loss' in line or any(k.startswith('loss') for k in line):
                key = line['epoch'] if unit == 'epoch' and 'epoch' in line \
                    else line.get('iter', line.get('step'))
                session_train.setdefault(key, []).append(line)
        train.update(session_train)   # later starts replace repeated epochs
        files = _per_class_files(folder)
        for n, line in enumerate(val_lines):
            epoch = int(line['step'])
            val[epoch] = {k: v for k, v in line.items()
                          if k.startswith(VAL_PREFIX)}
            if n < len(files):
                per_class[epoch] = files[n]
            else:
                per_class.pop(epoch, None)
        span, dev, images = _log_facts(osp.join(folder, f'{ts}.log'), ts)
        wall += span or 0.0
        device = dev or device
        train_images = images or train_images
    train_lines = [line for k in sorted(train) for line in train[k]]
    return RunRecord(
        work_dir=work_dir, config=config, config_name=name, unit=unit,
        planned=planned, train_lines=train_lines, val=val,
        per_class=per_class, checkpoints=_checkpoints(work_dir, unit, since),
        noise_flags=read_noise_flags(work_dir, since), run_info=run_info,
        sessions=sessions, log_wall_s=wall if sessions else None,
        log_device=device, train_images=train_images)


def _current_run_start(run_info: Optional[dict]
                       ) -> Optional[datetime.datetime]:
    """The start of the run's first session (its start folder's time, in
    the offset it was written in) when run_info.json says an earlier run
    shared the work dir (``earlier_runs``), else None (all is this run's)."""
    if not run_info or not run_info.get('earlier_runs') or \
            not run_info.get('sessions') or \
            not run_info['sessions'][0].get('start'):
        return None
    return datetime.datetime.fromisoformat(run_info['sessions'][0]['start'])


def _dumped_config(work_dir: str) -> Optional[str]:
    """The config MMEngine dumped into the work dir (the newest .py)."""
    files = [f for f in glob.glob(osp.join(work_dir, '*.py'))
             if osp.isfile(f)]
    return max(files, key=osp.getmtime) if files else None


def read_scalars(path: str) -> List[dict]:
    """The lines of a scalars.json; a torn last line (a killed run) is
    skipped, any other bad line is an error naming it."""
    if not osp.isfile(path):
        return []
    with open(path) as f:
        raw = f.read().splitlines()
    lines = []
    for n, text in enumerate(raw, 1):
        if not text.strip():
            continue
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError as e:
            if n == len(raw):
                break
            raise WorkDirError(f'{path}, line {n}: not JSON ({e}).') from e
    return lines


def _per_class_files(folder: str) -> List[dict]:
    paths = glob.glob(osp.join(folder, 'per_class_accuracy_*.json'))
    number = lambda p: int(re.search(r'_(\d+)\.json$', p).group(1))  # noqa
    out = []
    for path in sorted(paths, key=number):
        with open(path) as f:
            out.append(json.load(f))
    return out


def _written_since(path: str, since: Optional[datetime.datetime]) -> bool:
    return since is None or osp.getmtime(path) >= since.timestamp()


def _checkpoints(work_dir: str, unit: str,
                 since: Optional[datetime.datetime] = None) -> List[int]:
    found = set()
    for f in os.listdir(work_dir):
        m = CHECKPOINT.search(f)
        if m and m.group(1) == unit and _written_since(
                osp.join(work_dir, f), since):
            found.add(int(m.group(2)))
    return sorted(found)


def read_noise_flags(work_dir: str,
                     since: Optional[datetime.datetime] = None
                     ) -> Dict[int, dict]:
    """{epoch: the content of WORK/noise_flags/epoch_<epoch>.json}, only
    files written since ``since`` when given."""
    out = {}
    for path in glob.glob(osp.join(work_dir, 'noise_flags', 'epoch_*.json')):
        if not _written_since(path, since):
            continue
        with open(path) as f:
            record = json.load(f)
        out[int(record['epoch'])] = record
    return dict(sorted(out.items()))


def _log_facts(path: str, ts: str):
    """(seconds from the first to the last timestamped line, device,
    (real, synthetic) training images) of a start folder's log; the device
    from MMEngine's environment block, the images from the training set's
    summary line (None when absent)."""
    if not osp.isfile(path):
        return None, None, None
    year = int(ts[:4])
    first = last = None
    device, cuda, images = None, None, None
    with open(path, errors='replace') as f:
        for line in f:
            m = LOG_TIME.match(line)
            if m:
                counts = images is None and TRAIN_SET.search(line)
                if counts:
                    images = (int(counts.group(1)), int(counts.group(2)))
                y, mo, d, h, mi, s = m.groups()
                t = datetime.datetime(int(y) if y else year, int(mo), int(d),
                                      int(h), int(mi), int(s))
                if first is None:
                    first = t
                elif t < last:            # the year turned during the run
                    year += 1
                    t = t.replace(year=year)
                last = t
                continue
            text = line.strip()
            if text.startswith('CUDA available:'):
                cuda = text.endswith('True')
            elif cuda and device is None and re.match(r'GPU [\d,]+:', text):
                ids, name = text[4:].split(':', 1)
                n = len(ids.split(','))
                device = name.strip() if n == 1 else f'{n} x {name.strip()}'
    if device is None and cuda is False:
        device = 'CPU'
    span = (last - first).total_seconds() if first is not None else None
    return span, device, images
