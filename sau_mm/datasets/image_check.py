"""Image files checked the way training will read them: every file decoded
in full (a JPEG cut inside its scan data passes a header check such as
``Image.verify`` and only fails, or loads half grey, mid-training), and its
size read on the way. Parallel over processes (fork) when there are many
files; the per-file work is mostly Python (header parsing), so threads
would not help.

Measured on the 50,000 32x32 JPEGs of CIFAR-10 (JPEG) train, on a 2-core
x86 CPU shared with other jobs: 4.5 to 8 s (one or two processes; the
machine's load decides), about 2 s for its IF=100 subset (12,406 files);
reading the headers only, 1.6 s.
"""
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Dict, List, Optional, Sequence, Tuple

from PIL import Image, ImageFile

Size = Tuple[int, int]  # (width, height), PIL's order

# Below this many files one process is faster than starting a pool.
_PARALLEL_FROM = 4000


def inspect_image(path: str, decode: bool = True
                  ) -> Tuple[Optional[Size], Optional[str]]:
    """(size, None) for a good file, (None, reason) for a missing,
    unreadable or (with ``decode``) not fully decodable one. JPEGs are
    decoded at reduced scale (libjpeg's DCT scaling, ``Image.draft``): every
    byte of the scan data is still entropy-decoded, so a truncated or
    damaged file fails exactly as a full-size decode would."""
    try:
        with Image.open(path) as img:
            size = img.size
            if decode:
                if img.format == 'JPEG':
                    img.draft(img.mode, (max(1, size[0] // 8),
                                         max(1, size[1] // 8)))
                img.load()
        return size, None
    except FileNotFoundError:
        return None, 'file not found'
    except Exception as e:  # PIL raises OSError, SyntaxError, ValueError...
        return None, f'{type(e).__name__}: {e}'


def _inspect_chunk(args) -> List[Tuple[Optional[Size], Optional[str]]]:
    paths, decode = args
    return [inspect_image(p, decode) for p in paths]


def inspect_images(paths: Sequence[str], decode: bool = True,
                   workers: Optional[int] = None
                   ) -> Tuple[List[Optional[Size]], Dict[str, str]]:
    """Sizes of ``paths`` (None for a bad file) and ``{path: reason}`` of
    the bad ones. ``workers`` defaults to the CPU count (at most 8); many
    files go to a pool of forked processes."""
    if ImageFile.LOAD_TRUNCATED_IMAGES and decode:
        raise RuntimeError(
            'PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True in this process '
            '(some imported package set it), so truncated images would pass '
            'the check. Set it back to False before building the dataset.')
    paths = list(paths)
    workers = workers or min(8, os.cpu_count() or 1)
    if (len(paths) < _PARALLEL_FROM or workers < 2
            or 'fork' not in mp.get_all_start_methods()):
        results = [inspect_image(p, decode) for p in paths]
    else:
        step = max(64, len(paths) // (workers * 8))
        chunks = [(paths[i:i + step], decode)
                  for i in range(0, len(paths), step)]
        with ProcessPoolExecutor(workers,
                                 mp_context=mp.get_context('fork')) as ex:
            results = [r for part in ex.map(_inspect_chunk, chunks)
                       for r in part]
    sizes = [size for size, _ in results]
    bad = {p: why for p, (_, why) in zip(paths, results) if why}
    return sizes, bad
