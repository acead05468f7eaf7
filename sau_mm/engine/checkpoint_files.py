"""Whether a checkpoint file is complete, and what --resume does with a bad
one. (:class:`~sau_mm.engine.hooks.AtomicCheckpointHook` writes every
checkpoint and ``last_checkpoint`` with :mod:`sau_mm.utils.fileio`, so a kill
cannot tear them.)

- :func:`checkpoint_problem`: why a checkpoint file cannot be loaded (missing,
  empty, truncated, corrupt), or None; cheap: a CRC check of torch's zip
  format, no unpickling.
- :func:`resolve_resume`: the checkpoint ``tools/train.py --resume`` uses.
  A file named on the command line that is bad is an error naming it and
  the newest complete checkpoint before it; with ``--resume`` alone (the
  file ``last_checkpoint`` names), a bad file falls back to that older
  checkpoint with a warning.
"""
import logging
import os
import os.path as osp
import re
import zipfile
import zlib
from typing import Optional

import torch
from mmengine.logging import print_log

PERIODIC = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


class CheckpointError(RuntimeError):
    """A checkpoint cannot be resumed from; the message names the file and
    what to use instead."""


def checkpoint_problem(path: str) -> Optional[str]:
    """None if ``path`` is a complete checkpoint file, else what is wrong
    with it (a phrase: "is empty (0 bytes)", ...)."""
    if not osp.isfile(path):
        return 'does not exist'
    size = osp.getsize(path)
    if size == 0:
        return 'is empty (0 bytes)'
    if zipfile.is_zipfile(path):  # torch.save's format
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error,
                ValueError) as e:
            return f'is corrupt ({type(e).__name__}: {e})'
        if bad is not None:
            return f'is corrupt (CRC check failed on {bad})'
        if not any(n.endswith('data.pkl') for n in names):
            return 'is not a PyTorch checkpoint (a zip without data.pkl)'
        return None
    try:  # not a complete zip: a truncated one, or torch's legacy format
        torch.load(path, map_location='cpu', weights_only=False)
    except Exception as e:  # noqa: BLE001 (any failure means unusable)
        first = (str(e).splitlines() or [''])[0].split('. ')[0][:200]
        reason = f'{type(e).__name__}: {first}'
        return f'is truncated or corrupt ({size} bytes; {reason})'
    return None


def newest_complete_before(path: str) -> Optional[str]:
    """The newest complete ``epoch_N.pth`` / ``iter_N.pth`` in the folder of
    ``path`` that is older than it (lower N; any N when ``path`` is not such
    a file), or None."""
    folder = osp.dirname(osp.abspath(path))
    own = PERIODIC.match(osp.basename(path))
    candidates = []
    for name in os.listdir(folder) if osp.isdir(folder) else []:
        match = PERIODIC.match(name)
        if match is None or name == osp.basename(path):
            continue
        if own and (match.group(1) != own.group(1)
                    or int(match.group(2)) >= int(own.group(2))):
            continue
        candidates.append((int(match.group(2)), osp.join(folder, name)))
    for _, candidate in sorted(candidates, reverse=True):
        if checkpoint_problem(candidate) is None:
            return candidate
    return None


def resolve_resume(work_dir: str, requested: Optional[str] = None
                   ) -> Optional[str]:
    """The checkpoint to resume from: ``requested``, or (None) the one
    ``work_dir/last_checkpoint`` names (None when there is none: a fresh
    start, as MMEngine does).

    A bad requested file raises :class:`CheckpointError` naming it and the
    newest complete older checkpoint; a bad ``last_checkpoint`` target is
    replaced by that older checkpoint with a warning (an error when there is
    none)."""
    if requested is not None:
        problem = checkpoint_problem(requested)
        if problem is None:
            return requested
        older = newest_complete_before(requested)
        hint = (f'The newest complete checkpoint before it is {older}: '
                f'resume with --resume {older}' if older else
                f'There is no complete checkpoint before it in '
                f'{osp.dirname(osp.abspath(requested))}: train without '
                '--resume (or --resume another complete checkpoint)')
        raise CheckpointError(f'Cannot resume from {requested}: it '
                              f'{problem}. {hint}.')
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        named = f.read().strip()
    if named:
        problem = checkpoint_problem(named)
        if problem is None:
            return named
        what = f'{named} (named by {pointer}) {problem}'
    else:
        what = f'{pointer} is empty'
        named = osp.join(work_dir, 'last_checkpoint')
    older = newest_complete_before(named)
    if older is None:
        raise CheckpointError(
            f'Cannot resume: {what}, and there is no complete epoch_N.pth / '
            f'iter_N.pth in {osp.dirname(osp.abspath(named))}. Train without '
            '--resume, or pass --resume CHECKPOINT.')
    print_log(f'--resume: {what}; resuming from the newest complete '
              f'checkpoint before it, {older}.', logger='current',
              level=logging.WARNING)
    return older
