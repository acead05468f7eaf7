"""Files that a kill cannot tear, and whether a writer process still runs.

Every file of the package that is replaced as a whole is written by
:func:`atomic_path` (or its shortcuts :func:`atomic_write` and
:func:`atomic_write_json`): the content goes to ``<path>.tmp.<pid>`` in the
target's folder (:func:`temp_path`), the temp file is fsynced, then
``os.replace``-d over ``path``, then the folder is fsynced (best effort). A
reader sees the old file or the whole new one, never a part, and the new one
survives a power loss once the call returns. A failure (or a kill signal
raised as an exception) removes the temp file and leaves the old file as it
was; a hard kill leaves ``<path>.tmp.<pid>``, which the owner of the folder
removes when :func:`pid_alive` says the process is gone.
"""
import json
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator, Union

TEMP_INFIX = '.tmp.'


def temp_path(path: str) -> str:
    """The temporary name ``path`` is written under before its rename."""
    return f'{path}{TEMP_INFIX}{os.getpid()}'


def temp_pid(tmp: str) -> int:
    """The writer's pid in a :func:`temp_path` name; ValueError if it has
    none."""
    return int(tmp.rsplit(TEMP_INFIX, 1)[1])


def fsync_file(path: str) -> None:
    with open(path, 'rb') as f:
        os.fsync(f.fileno())


def fsync_dir(folder: str) -> None:
    """Make a rename in ``folder`` durable (best effort: not every file
    system lets a folder be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield the temp path to write ``path``'s new content to (with
    ``torch.save``, ``Image.save``, ...); on a normal exit it is fsynced and
    renamed over ``path``, on an exception removed."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = temp_path(path)
    try:
        yield tmp
        fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    fsync_dir(folder)


def atomic_write(path: str, data: Union[bytes, str]) -> None:
    """Write ``data`` (text is UTF-8 encoded) to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, 'wb') as f:
        f.write(data.encode() if isinstance(data, str) else data)


def atomic_write_json(path: str, obj, **dump_kwargs) -> None:
    """``json.dump(obj, **dump_kwargs)`` to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, 'w', encoding='utf-8') as f:
        json.dump(obj, f, **dump_kwargs)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host runs (one that exists but
    belongs to another user counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
