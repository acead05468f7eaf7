"""Progress a person can follow, read from a stage's output lines.

- Training (``kind='train'``): MMEngine's log lines
  ``Epoch(train) [12][50/97] ... eta: 0:41:02 ...`` and
  ``Iter(train) [100/2000] ... eta: ...`` become ``epoch 12/200, ETA
  0:41:02`` / ``iteration 100/2000, ETA ...``; ``Epoch(val) [12][79/79]
  lt/top1: 45.1200 ...`` becomes ``epoch 12/200 evaluated: top-1 45.12``.
- Anything else (``kind='bar'``): MMEngine's ProgressBar
  ``450/900, 12.3 task/s, elapsed: 36s, ETA: 36s`` and tqdm's
  ``450/900 [00:36<00:36, ...]`` become ``450/900, ETA 0:00:36``.

A message is returned for every new epoch and evaluation, the last step and
the first training line, and otherwise at most every ``interval`` seconds
(a bar's first one after ``interval`` seconds: its first ETAs are noise).
"""
import re
import time
from typing import Optional

EPOCH = re.compile(r'Epoch\(train\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\]')
ITER = re.compile(r'Iter\(train\)\s*\[\s*(\d+)/(\d+)\]')
VAL = re.compile(r'Epoch\(val\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\].*?'
                 r'lt/top1: ([\d.]+)')
ETA = re.compile(r'eta: (?:(\d+) days?, )?(\d+):(\d\d):(\d\d)')
MM_BAR = re.compile(r'(\d+)/(\d+), [\d.]+ task/s, elapsed: \d+s, '
                    r'ETA:\s*(\d+)s')
TQDM = re.compile(r'(\d+)/(\d+) \[[\d:]+<([\d:]+|\?)')


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
    """Turns output lines into progress messages (module doc); ``total``: the
    planned epochs or iterations of a training run."""

    def __init__(self, kind: str = 'bar', total: Optional[int] = None,
                 interval: float = 30.0, clock=time.monotonic):
        self.kind, self.total, self.interval = kind, total, interval
        self.clock = clock
        self.last_time = None if kind == 'train' else clock()
        self.last_key = None if kind == 'train' else 'bar'
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
        """The message for one output line, or None."""
        if self.kind == 'train':
            return self._train(line)
        return self._bar(line)

    def _train(self, line):
        total = f'/{self.total}' if self.total else ''
        match = VAL.search(line)
        if match and match.group(2) == match.group(3):
            epoch = int(match.group(1))
            return self._emit(f'epoch {epoch}{total} evaluated: top-1 '
                              f'{float(match.group(4)):.2f}',
                              ('val', epoch), True)
        eta = ETA.search(line)
        eta_text = ''
        if eta:
            days, h, m, s = (int(g or 0) for g in eta.groups())
            eta_text = f', ETA {hms(((days * 24 + h) * 60 + m) * 60 + s)}'
        match = EPOCH.search(line)
        if match:
            epoch = int(match.group(1))
            final = match.group(2) == match.group(3)
            return self._emit(f'epoch {epoch}{total}{eta_text}',
                              ('epoch', epoch), final)
        match = ITER.search(line)
        if match:
            done, planned = int(match.group(1)), int(match.group(2))
            return self._emit(f'iteration {done}/{planned}{eta_text}',
                              'iter', done == planned)
        return None

    def _bar(self, line):
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
