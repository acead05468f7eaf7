"""RunInfoHook: record what ran where, for the run tables
(``sau_mm.analysis``)."""
import datetime
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import time
from typing import Optional

import torch
from mmengine.dist import get_world_size, is_main_process
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from sau_mm.utils.fileio import atomic_write_json

RUN_INFO = 'run_info.json'


def git_commit(folder: str) -> dict:
    """``{'commit': sha or None, 'dirty': bool or None}`` of the git
    checkout holding ``folder`` (None, None outside one or without git);
    dirty = tracked files changed since that commit."""
    def git(*args):
        return subprocess.run(['git', '-C', folder, *args],
                              capture_output=True, text=True, timeout=10)
    try:
        head = git('rev-parse', 'HEAD')
        if head.returncode != 0:
            return dict(commit=None, dirty=None)
        status = git('status', '--porcelain', '--untracked-files=no')
    except (OSError, subprocess.SubprocessError):
        return dict(commit=None, dirty=None)
    return dict(commit=head.stdout.strip(),
                dirty=bool(status.stdout.strip()) if status.returncode == 0
                else None)


def device_name() -> str:
    """The CUDA device's name, else the CPU model (/proc/cpuinfo)."""
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.cuda.current_device())
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return 'CPU: ' + line.split(':', 1)[1].strip()
    except OSError:
        pass
    return 'CPU: ' + (platform.processor() or platform.machine())


def config_name(filename: Optional[str]) -> Optional[str]:
    """A config path without '.py', relative to the last ``configs/``
    folder above it when there is one (``baselines/resnet32_cifar10lt/ce``);
    else its file name."""
    if not filename:
        return None
    parts = osp.normpath(osp.abspath(filename)).split(os.sep)
    if 'configs' in parts[:-1]:
        last = len(parts) - 1 - parts[::-1].index('configs')
        return osp.splitext('/'.join(parts[last + 1:]))[0]
    return osp.splitext(osp.basename(filename))[0]


def read_run_info(work_dir: str) -> Optional[dict]:
    """``<work_dir>/run_info.json`` or None if there is none."""
    path = osp.join(work_dir, RUN_INFO)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f'{path} is not valid JSON ({e}); delete it '
                             '(the next run writes a new one).') from e


@HOOKS.register_module()
class RunInfoHook(Hook):
    """Writes ``<work_dir>/run_info.json`` (main process only)::

        {"sessions": [{"start": ISO time, "resumed": bool,
                       "commit": sha | null,
                       "dirty": bool | null, "device": str, "torch": str,
                       "world_size": int, "config": "baselines/.../ce",
                       "config_file": path, "argv": [str, ...],
                       "max_epochs": int | null,
                       "max_iters": int | null, "wall_s": float,
                       "updated": ISO time, "finished": bool}, ...],
         "earlier_runs": [[session, ...], ...]}

    One session per start of training: before_train appends one (a resumed
    run keeps the earlier ones; ``tools/test.py`` adds none). A fresh start
    (``resumed`` false: no --resume, or nothing to resume) in a work dir
    that held a run begins a new list; the earlier run's sessions move to
    ``earlier_runs`` (absent until then). ``start`` is
    the runner's creation (its ``<timestamp>`` log folder), so set-up counts;
    ``wall_s`` (seconds since that start) is rewritten after every training
    epoch and checkpoint, so an unfinished run shows its wall time so far,
    and at after_train, which also sets ``finished``. Wall time of the run =
    the sum over ``sessions``.
    """
    priority = 'LOWEST'

    def before_train(self, runner) -> None:
        # the runner's creation time (its log folder's name): set-up (data
        # checks, model build) counts in the wall time
        try:
            self._start = time.mktime(time.strptime(runner.timestamp,
                                                    '%Y%m%d_%H%M%S'))
        except (AttributeError, TypeError, ValueError):
            self._start = time.time()
        if not is_main_process():
            return
        cfg = runner.cfg
        train_cfg = cfg.get('train_cfg') or {}
        filename = getattr(cfg, 'filename', None)
        info = read_run_info(runner.work_dir) or dict(sessions=[])
        # a resume restores the loop's iteration; a fresh start (load_from
        # too: weights only) begins at 0
        resumed = runner.iter > 0
        if not resumed and info['sessions']:
            info.setdefault('earlier_runs', []).append(info['sessions'])
            info['sessions'] = []
            runner.logger.warning(
                f'{RUN_INFO}: a new start (no --resume) in a work dir that '
                'held a run; that run\'s sessions are kept under '
                '"earlier_runs".')
        code = git_commit(osp.dirname(osp.abspath(__file__)))
        info['sessions'].append(dict(
            start=_iso(self._start), resumed=resumed, **code,
            device=device_name(), torch=torch.__version__,
            world_size=get_world_size(), config=config_name(filename),
            config_file=filename, argv=list(sys.argv),
            max_epochs=train_cfg.get('max_epochs'),
            max_iters=train_cfg.get('max_iters'),
            wall_s=round(time.time() - self._start, 3),
            updated=_iso(time.time()), finished=False))
        self._write(runner, info)

    def after_train_epoch(self, runner) -> None:
        self._update(runner)

    def after_save_checkpoint(self, runner, checkpoint) -> None:
        self._update(runner)

    def after_train(self, runner) -> None:
        self._update(runner, finished=True)

    def _update(self, runner, finished: bool = False) -> None:
        if not is_main_process() or not hasattr(self, '_start'):
            return
        info = read_run_info(runner.work_dir)
        if not info or not info.get('sessions'):
            return
        session = info['sessions'][-1]
        session.update(wall_s=round(time.time() - self._start, 3),
                       updated=_iso(time.time()), finished=finished)
        self._write(runner, info)

    @staticmethod
    def _write(runner, info: dict) -> None:
        atomic_write_json(osp.join(runner.work_dir, RUN_INFO), info, indent=1)


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds).astimezone().isoformat(
        timespec='seconds')
