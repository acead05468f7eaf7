"""Progress a person can follow.

- Training (:class:`TrainingProgress`): the run's own scalars, the
  ``<work_dir>/<start>/vis_data/scalars.json`` lines MMEngine writes (read
  as :mod:`sau_mm.analysis.run_records` reads them). A training line of
  epoch 12 becomes ``epoch 12/200, ETA 0:41:02``, an iteration-based one
  ``iteration 100/2000, ETA ...``; an evaluation line (``lt/top1``) becomes
  ``epoch 12/200 evaluated: top-1 45.12``. ETA: iterations, the logged
  seconds per iteration (``time``) times those left; epochs, the wall time
  per epoch seen so far times the epochs left (none before a second epoch
  starts).
- Anything else (``kind='bar'``): MMEngine's ProgressBar
  ``450/900, 12.3 task/s, elapsed: 36s, ETA: 36s`` and tqdm's
  ``450/900 [00:36<00:36, ...]`` output lines become ``450/900, ETA
  0:00:36``.

A message is returned for every new epoch and evaluation, the last step and
the first training line, and otherwise at most every ``interval`` seconds
(a bar's first one after ``interval`` seconds: its first ETAs are noise).
"""
import datetime
import glob
import os.path as osp
import re
import time
from typing import List, Optional

from sau_mm.analysis.run_records import VAL_PREFIX, read_scalars

MM_BAR = re.compile(r'(\d+)/(\d+), [\d.]+ task/s, elapsed: \d+s, '
                    r'ETA:\s*(\d+)s')
TQDM = re.compile(r'(\d+)/(\d+) \[[\d:]+<([\d:]+|\?)')
TOP1 = f'{VAL_PREFIX}top1'


def hms(seconds: float) -> str:
    """``H:MM:SS``."""
    seconds = int(round(seconds))
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


def clock_seconds(text: str) -> Optional[int]:
    """tqdm's ``MM:SS`` / ``H:MM:SS`` in seconds (None for ``?``)."""
    if text == '?':
        return None
    seconds = 0
    for part in text.split(':'):
        seconds = seconds * 60 + int(part)
    return seconds


class ProgressReader:
    """Turns a bar's output lines into progress messages (module doc)."""
    kind = 'bar'

    def __init__(self, interval: float = 30.0, clock=time.monotonic):
        self.interval, self.clock = interval, clock
        self.last_time, self.last_key = clock(), 'bar'
        self.last_message = None

    def _emit(self, message: str, key, final: bool) -> Optional[str]:
        now = self.clock()
        if message != self.last_message and (
                self.last_time is None or key != self.last_key or final
                or now - self.last_time >= self.interval):
            self.last_time, self.last_key = now, key
            self.last_message = message
            return message
        return None

    def feed(self, line: str) -> Optional[str]:
        """The message for one output line of a bar, or None."""
        match = MM_BAR.search(line)
        eta = None
        if match:
            eta = int(match.group(3))
        else:
            match = TQDM.search(line)
            if match:
                eta = clock_seconds(match.group(3))
        if not match:
            return None
        done, planned = int(match.group(1)), int(match.group(2))
        eta_text = '' if eta is None else f', ETA {hms(eta)}'
        return self._emit(f'{done}/{planned}{eta_text}', 'bar',
                          done == planned)


class TrainingProgress(ProgressReader):
    """Progress messages from the scalars of a training run in ``work_dir``
    (module doc), for the starts at or after ``since`` (``time.time()``,
    default now); ``unit`` 'epoch' or 'iter', ``total`` the planned count."""
    kind = 'train'

    def __init__(self, work_dir: str, unit: str, total: int,
                 interval: float = 30.0, clock=time.monotonic,
                 since: Optional[float] = None):
        super().__init__(interval, clock)
        self.last_time = self.last_key = None  # the first line at once
        self.work_dir, self.unit, self.total = work_dir, unit, total
        self.first = datetime.datetime.fromtimestamp(
            time.time() if since is None else since).strftime(
                '%Y%m%d_%H%M%S')
        self.seen = {}  # scalars file -> lines already read
        self.epoch_start = {}  # epoch -> clock() at its first line

    def poll(self) -> List[str]:
        """The messages of the scalar lines written since the last poll."""
        messages = []
        pattern = osp.join(glob.escape(self.work_dir), '*', 'vis_data',
                           'scalars.json')
        for path in sorted(glob.glob(pattern)):
            if osp.basename(osp.dirname(osp.dirname(path))) < self.first:
                continue
            lines = read_scalars(path)
            for line in lines[self.seen.get(path, 0):]:
                message = self.feed_scalars(line)
                if message:
                    messages.append(message)
            self.seen[path] = len(lines)
        return messages

    def feed_scalars(self, line: dict) -> Optional[str]:
        """The message for one scalars.json line, or None."""
        total = f'/{self.total}'
        if TOP1 in line:
            epoch = int(line['step'])
            return self._emit(f'epoch {epoch}{total} evaluated: top-1 '
                              f'{float(line[TOP1]):.2f}', ('val', epoch),
                              True)
        if self.unit == 'iter' and 'iter' in line:
            done = int(line['iter'])
            eta = line.get('time')
            eta_text = '' if eta is None else \
                f', ETA {hms(eta * (self.total - done))}'
            return self._emit(f'iteration {done}{total}{eta_text}', 'iter',
                              done == self.total)
        if self.unit == 'epoch' and 'epoch' in line:
            epoch = int(line['epoch'])
            now = self.clock()
            self.epoch_start.setdefault(epoch, now)
            return self._emit(f'epoch {epoch}{total}{self._epoch_eta(epoch)}',
                              ('epoch', epoch), False)
        return None

    def _epoch_eta(self, epoch: int) -> str:
        """Wall time per epoch so far (first epoch seen to this one's
        start) times the epochs left, less the time into this one."""
        first = min(self.epoch_start)
        if epoch == first:
            return ''
        per_epoch = (self.epoch_start[epoch] - self.epoch_start[first]) / (
            epoch - first)
        left = per_epoch * (self.total - epoch + 1) - (
            self.clock() - self.epoch_start[epoch])
        return f', ETA {hms(max(0.0, left))}'
