"""The decoded-image cache: a dataset's images decoded once, kept on disk.

:func:`build_or_load` decodes every sample of a dataset (a
:class:`~sau_mm.datasets.LongTailSyntheticDataset`: the selected real
long-tailed images, then the synthetic complement) in dataset index order,
exactly as :class:`~sau_mm.datasets.transforms.LoadImage` does (RGB uint8),
into one ``(N, H, W, 3)`` array stored under ``cache_dir/<key>/``:

- ``images.npy``: the array (``.npy`` format), opened read-only as a
  ``np.memmap`` on load, so that a run pays neither the decode nor the RAM
  until it reads the pixels;
- ``meta.json``: the key, shape, dtype, sample counts, the settings that made
  the key (for people) and a per-chunk CRC-32 of the array.

**The key** (:func:`cache_key`) is a SHA-256 of everything that defines the
array: the format version and the decoder (OpenCV version, mmcv backend);
the dataset's class, ``source``, ``data_root``, ``split``, ``split_file``
(path and content hash), ``imbalance_factor``, ``subset_method``,
``subset_seed``, ``num_classes``, class names, ``synthetic_manifest`` (path
and SHA-256 of its content), ``target_count``, ``allow_partial_fill``; the
``image_size`` setting (and the dataset's own ``image_size``, if it has
one); and per sample, in order, every field of its data info but the
image (``gt_label``, ``is_synthetic``, ``resize_to``, ...) plus either its
file (absolute path, size, mtime in ns) or, for in-memory samples (CIFAR
pickles), the shape and pixel bytes themselves (hashed: exact whatever the
pickle files look like; the whole key takes ~1 s for the 50,000 CIFAR-10
training images here).
Any changed input gives another key, hence another folder and a fresh build.
A file rewritten with the same size *and* the same mtime is not seen (the
rule of make and rsync): touch it.

**Atomic writes.** A build decodes into ``cache_dir/.tmp-<key>-<host>-<pid>-
<random>/`` (unique per process), fsyncs ``images.npy``, writes
``meta.json`` last (fsynced), then renames the folder to ``cache_dir/<key>``:
the rename is the commit, so ``<key>/`` is complete or absent. If another
process committed the same key meanwhile, its folder is kept and ours is
deleted. Temporary folders of a process that no longer runs (same host) are
leftovers of an interrupted build: they are logged and removed.

**Validation on load.** ``meta.json`` present and readable, its key and
format version matching, ``images.npy`` present with the recorded shape and
dtype and the exact file size (a truncated file is caught), and, unless
``verify=False``, every chunk's CRC-32 matching (reads the whole array once:
0.07 s for CIFAR-10-LT + its complement, 154 MB, from the page cache here;
``verify=False`` skips only this, for a cache you trust). A cache failing
any check is logged with the reason, moved aside, deleted and rebuilt.

**Image size.** Every image must be ``image_size`` (``int`` or ``(H, W)``);
``None`` means all must share the first image's size. A mismatch is an error
naming the file and the setting: nothing is ever cropped or resized here
(resizing belongs to the dataset).

**Distributed runs.** Under DDP the first process of each node (local rank
0) builds or loads and checks the cache while the others wait at
``mmengine.dist.barrier()``, then they load it (structure checks only: the
builder has verified the checksum). ``cache_dir`` on a
filesystem shared by the nodes means one valid cache for all (builders of
several nodes racing on it is safe: the first rename wins); node-local
``cache_dir`` means one build per node. Every process must call
:func:`build_or_load` (it holds a collective barrier). If the building rank
fails, the others raise an error pointing at its log.
"""
import errno
import hashlib
import json
import os
import os.path as osp
import shutil
import socket
import threading
import time
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, Union

import numpy as np
from mmengine import dist as mm_dist
from mmengine.logging import print_log

from sau_mm.utils.fileio import fsync_dir, fsync_file, pid_alive

from .transforms.loading import LoadImage
from .wrappers import inner_dataset

FORMAT_VERSION = 1
IMAGES_FILE = 'images.npy'
META_FILE = 'meta.json'
TMP_PREFIX = '.tmp-'
TRASH_PREFIX = '.trash-'
CHUNK_BYTES = 16 << 20  # CRC-32 per ~16 MiB of images
TASK_SIZE = 64  # samples per decode task
PROGRESS_EVERY_S = 10.0

ImageSize = Union[None, int, Sequence[int]]
_LOAD_IMAGE = LoadImage()


@dataclass
class DecodedImages:
    """A dataset's decoded images, in dataset index order.

    ``images``: ``(N, H, W, 3)`` uint8 RGB, a read-only ``np.memmap``;
    ``labels``: ``(N,)`` int64; ``is_synthetic``: ``(N,)`` bool; ``key``:
    the cache key; ``path``: the cache folder.
    """
    images: np.ndarray
    labels: np.ndarray
    is_synthetic: np.ndarray
    key: str
    path: str

    def __len__(self) -> int:
        return len(self.images)


class CacheInvalid(Exception):
    """A cache folder that must not be used (the message says why)."""


# ------------------------------------------------------------------ the key
def _normalize_size(image_size: ImageSize) -> Optional[Tuple[int, int]]:
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)):
        size = (int(image_size), int(image_size))
    else:
        size = tuple(int(s) for s in image_size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError('image_size must be None, a positive int or (H, W), '
                         f'got {image_size!r}.')
    return size


def _base_dataset(dataset):
    """The dataset that holds the samples (unwraps e.g. MixPartnerDataset)."""
    found = inner_dataset(dataset, has='get_data_info')
    if found is None:
        raise TypeError(f'{type(dataset).__name__} has no get_data_info(); '
                        'the decoded-image cache needs an MMEngine dataset.')
    return found


def _file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def _optional_file(path: Optional[str]) -> Optional[dict]:
    if not path:
        return None
    info = dict(path=osp.abspath(path))
    info['sha256'] = _file_sha256(path) if osp.isfile(path) else None
    return info


def _decoder() -> dict:
    import cv2
    import mmcv
    from mmcv.image import io as mmcv_io
    return dict(cv2=cv2.__version__, mmcv=mmcv.__version__,
                backend=mmcv_io.imread_backend)


def _jsonable(value):
    return list(value) if isinstance(value, tuple) else value


def _settings(dataset, image_size) -> dict:
    """The dataset-level ingredients of the key (also stored in meta.json)."""
    ds = _base_dataset(dataset)

    def attr(name):
        value = getattr(ds, name, None)
        return value.item() if isinstance(value, np.generic) else value

    data_root = attr('data_root')
    split_file = attr('split_file')
    if split_file and not osp.isfile(split_file) and data_root:
        split_file = osp.join(data_root, split_file)
    classes = ds.metainfo.get('classes') if hasattr(ds, 'metainfo') else None
    return dict(
        format_version=FORMAT_VERSION,
        decoder=_decoder(),
        dataset=type(ds).__name__,
        source=attr('source'),
        data_root=osp.abspath(data_root) if data_root else None,
        split=attr('split'),
        split_file=_optional_file(split_file),
        imbalance_factor=attr('imbalance_factor'),
        subset_method=attr('subset_method'),
        subset_seed=attr('subset_seed'),
        num_classes=attr('num_classes'),
        classes=list(classes) if classes is not None else None,
        synthetic_manifest=_optional_file(attr('synthetic_manifest')),
        target_count=attr('target_count'),
        allow_partial_fill=attr('allow_partial_fill'),
        dataset_image_size=_jsonable(attr('image_size')),
        image_size=_normalize_size(image_size),
        num_samples=len(ds),
    )


def _sample_fields(info: dict) -> Tuple[int, bool]:
    label = info.get('gt_label')
    if label is None:
        raise ValueError(f'Sample {info.get("sample_idx")} has no gt_label.')
    return int(label), bool(info.get('is_synthetic', False))


def _key_and_targets(dataset, image_size):
    """(key, settings, labels, is_synthetic) in one pass over the samples."""
    ds = _base_dataset(dataset)
    settings = _settings(ds, image_size)
    h = hashlib.sha256()
    h.update(json.dumps(settings, sort_keys=True).encode())
    n = len(ds)
    labels = np.empty(n, dtype=np.int64)
    flags = np.empty(n, dtype=bool)
    for i in range(n):
        info = ds.get_data_info(i)
        labels[i], flags[i] = _sample_fields(info)
        # every other field LoadImage may read (gt_label, is_synthetic,
        # resize_to, ...): the sample index and the image are not content
        fields = {k: v for k, v in info.items()
                  if k not in ('img', 'img_path', 'sample_idx')}
        h.update(f'\n{i} {json.dumps(fields, sort_keys=True, default=repr)} '
                 .encode())
        img = info.get('img')
        if img is not None:
            img = np.ascontiguousarray(img)
            h.update(f'mem {img.dtype} {img.shape} '.encode())
            h.update(memoryview(img).cast('B'))
        else:
            path = osp.abspath(info['img_path'])
            try:
                st = os.stat(path)
            except OSError as e:
                raise FileNotFoundError(
                    f'Sample {i}: image {path!r} cannot be read ({e}).') from e
            h.update(f'file {path} {st.st_size} {st.st_mtime_ns}'.encode())
    return h.hexdigest()[:32], settings, labels, flags


def cache_key(dataset, image_size: ImageSize = None) -> str:
    """The key of ``dataset``'s decoded images at ``image_size`` (see the
    module docstring for the ingredients)."""
    return _key_and_targets(dataset, image_size)[0]


# ----------------------------------------------------------------- helpers
def _chunk_images(image_bytes: int) -> int:
    return max(1, CHUNK_BYTES // max(1, image_bytes))


def _checksums(images: np.ndarray, chunk: int, num_workers: int):
    """CRC-32 of each run of ``chunk`` images (zlib releases the GIL)."""
    starts = range(0, len(images), chunk)

    def crc(start):
        return zlib.crc32(memoryview(
            np.ascontiguousarray(images[start:start + chunk])).cast('B'))

    with ThreadPoolExecutor(max(1, num_workers)) as pool:
        return list(pool.map(crc, starts))


def _log(msg: str, level: int = 20) -> None:
    print_log(f'[image cache] {msg}', logger='current', level=level)


def _describe(i: int, info: dict) -> str:
    if info.get('img') is None:
        return f'Image {info["img_path"]!r} (sample {i})'
    return f'In-memory image of sample {i}'


def _decode(info: dict) -> np.ndarray:
    """One sample's image, exactly as LoadImage gives it."""
    return _LOAD_IMAGE(dict(info))['img']


def _check_shape(img: np.ndarray, expected, image_size, i: int,
                 info: dict) -> None:
    if img.dtype == np.uint8 and img.shape == expected:
        return
    what = _describe(i, info)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f'{what} decodes to {img.dtype} {img.shape}, not '
                         'HxWx3 uint8.')
    setting = (f'image_size={image_size!r}' if image_size is not None else
               f'image_size=None (all images must share the first image\'s '
               f'size, {expected[0]}x{expected[1]})')
    raise ValueError(
        f'{what} is {img.shape[0]}x{img.shape[1]} (HxW), but the decoded-'
        f'image cache needs {expected[0]}x{expected[1]}: {setting}. The '
        'cache never crops or resizes; resize the images in the dataset '
        'first, or set image_size to the size of all of them.')


def _remove(path: str) -> None:
    """Move a folder aside (atomic) and delete it."""
    trash = osp.join(osp.dirname(path), f'{TRASH_PREFIX}{osp.basename(path)}'
                     f'-{os.getpid()}-{uuid.uuid4().hex[:8]}')
    try:
        os.rename(path, trash)
    except FileNotFoundError:
        return
    shutil.rmtree(trash, ignore_errors=True)


def _clean_leftovers(cache_dir: str, key: str) -> None:
    """Delete temp folders of ``key`` left by dead processes of this host."""
    host = socket.gethostname()
    prefix = f'{TMP_PREFIX}{key}-'
    for name in os.listdir(cache_dir):
        path = osp.join(cache_dir, name)
        if name.startswith(f'{TRASH_PREFIX}{key}'):
            shutil.rmtree(path, ignore_errors=True)
            continue
        if not name.startswith(prefix):
            continue
        try:
            tmp_host, pid, _ = name[len(prefix):].rsplit('-', 2)
            pid = int(pid)
        except ValueError:
            tmp_host, pid = None, None
        if tmp_host == host and pid is not None and pid_alive(pid):
            continue  # another build in progress
        if tmp_host not in (host, None):
            continue  # cannot tell whether a process on another host runs
        _log(f'Removing leftover temporary folder {path} (an interrupted '
             f'build: process {pid} no longer runs).', level=30)
        shutil.rmtree(path, ignore_errors=True)


# -------------------------------------------------------------- load/build
def _load(folder: str, key: str, labels: np.ndarray, flags: np.ndarray,
          verify: bool, num_workers: int) -> DecodedImages:
    meta_path = osp.join(folder, META_FILE)
    images_path = osp.join(folder, IMAGES_FILE)
    if not osp.isfile(meta_path):
        raise CacheInvalid(f'{META_FILE} is missing')
    try:
        with open(meta_path, encoding='utf-8') as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        raise CacheInvalid(f'{META_FILE} is unreadable ({e})') from e
    if meta.get('format_version') != FORMAT_VERSION:
        raise CacheInvalid(f'format version {meta.get("format_version")} '
                           f'!= {FORMAT_VERSION}')
    if meta.get('key') != key:
        raise CacheInvalid(f'{META_FILE} has key {meta.get("key")!r}')
    shape = tuple(meta.get('shape', ()))
    if len(shape) != 4 or shape[0] != len(labels) or shape[3] != 3:
        raise CacheInvalid(f'recorded shape {shape} does not fit '
                           f'{len(labels)} RGB images')
    if meta.get('num_synthetic') != int(flags.sum()):
        raise CacheInvalid('recorded sample counts differ from the dataset')
    if not osp.isfile(images_path):
        raise CacheInvalid(f'{IMAGES_FILE} is missing')
    try:
        with open(images_path, 'rb') as f:
            version = np.lib.format.read_magic(f)
            read_header = {
                (1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0,
            }.get(version)
            if read_header is None:
                raise ValueError(f'.npy version {version}')
            header = read_header(f)
            offset = f.tell()
    except (OSError, ValueError) as e:
        raise CacheInvalid(f'{IMAGES_FILE} header is unreadable ({e})') from e
    if header[0] != shape or header[1] or np.dtype(header[2]) != np.uint8:
        raise CacheInvalid(f'{IMAGES_FILE} holds {header[2]} {header[0]}, '
                           f'expected uint8 {shape} (C order)')
    expected = offset + int(np.prod(shape))
    size = osp.getsize(images_path)
    if size != expected:
        raise CacheInvalid(f'{IMAGES_FILE} is {size} bytes, expected '
                           f'{expected} (truncated or partial)')
    images = np.load(images_path, mmap_mode='r')
    if verify:
        check = meta.get('checksum', {})
        chunk = check.get('chunk_images')
        if check.get('algorithm') != 'crc32' or not chunk:
            raise CacheInvalid('no CRC-32 checksum recorded')
        actual = _checksums(images, chunk, num_workers)
        bad = [i for i, (a, b) in enumerate(zip(actual, check['values']))
               if a != b]
        if bad or len(actual) != len(check['values']):
            first = bad[0] if bad else min(len(actual), len(check['values']))
            raise CacheInvalid(
                f'checksum mismatch in {len(bad) or 1} chunk(s), first: '
                f'images {first * chunk}..{(first + 1) * chunk - 1}')
    return DecodedImages(images=images, labels=labels, is_synthetic=flags,
                         key=key, path=folder)


def _decode_into(ds, arr, image_size, expected, first, num_workers,
                 t0) -> None:
    n = len(arr)
    arr[0] = first
    tasks = [range(s, min(s + TASK_SIZE, n)) for s in range(1, n, TASK_SIZE)]
    stop = threading.Event()

    def work(idx):
        for i in idx:
            if stop.is_set():
                return 0
            info = ds.get_data_info(i)
            img = _decode(info)
            _check_shape(img, expected, image_size, i, info)
            arr[i] = img
        return len(idx)

    done, last = 1, time.monotonic()
    with ThreadPoolExecutor(max(1, num_workers)) as pool:
        futures = [pool.submit(work, t) for t in tasks]
        try:
            for fut in as_completed(futures):
                done += fut.result()
                now = time.monotonic()
                if now - last >= PROGRESS_EVERY_S:
                    last = now
                    rate = done / (now - t0)
                    _log(f'decoded {done}/{n} images ({rate:.0f}/s, ETA '
                         f'{(n - done) / rate:.0f} s)')
        except BaseException:
            stop.set()
            raise


def _build(ds, cache_dir: str, key: str, settings: dict, labels, flags,
           image_size, num_workers: int) -> DecodedImages:
    final = osp.join(cache_dir, key)
    tmp = osp.join(cache_dir, f'{TMP_PREFIX}{key}-{socket.gethostname()}-'
                   f'{os.getpid()}-{uuid.uuid4().hex[:8]}')
    os.makedirs(tmp)
    n = len(labels)
    _log(f'Building {final}: decoding {n} images with {num_workers} '
         'threads.')
    t0 = time.monotonic()
    try:
        info = ds.get_data_info(0)
        first = _decode(info)
        size = _normalize_size(image_size)
        expected = (size or first.shape[:2]) + (3, )
        _check_shape(first, expected, size, 0, info)
        shape = (n, ) + expected
        arr = np.lib.format.open_memmap(osp.join(tmp, IMAGES_FILE), mode='w+',
                                        dtype=np.uint8, shape=shape)
        _decode_into(ds, arr, size, expected, first, num_workers, t0)
        arr.flush()
        chunk = _chunk_images(int(np.prod(expected)))
        values = _checksums(arr, chunk, num_workers)
        del arr
        fsync_file(osp.join(tmp, IMAGES_FILE))
        build_s = time.monotonic() - t0
        meta = dict(
            format_version=FORMAT_VERSION, key=key, shape=list(shape),
            dtype='uint8', num_samples=n, num_real=int((~flags).sum()),
            num_synthetic=int(flags.sum()),
            class_counts=np.bincount(labels).tolist(),
            checksum=dict(algorithm='crc32', chunk_images=chunk,
                          values=values),
            build_seconds=round(build_s, 3), created=time.time(),
            settings=settings)
        meta_path = osp.join(tmp, META_FILE)
        with open(meta_path, 'w', encoding='utf-8') as f:
            json.dump(meta, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        fsync_dir(tmp)
        try:
            os.rename(tmp, final)  # the commit
        except OSError as e:
            if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            _log(f'Another process committed {final} meanwhile; keeping it.')
            shutil.rmtree(tmp, ignore_errors=True)
            return _load(final, key, labels, flags, True, num_workers)
        fsync_dir(cache_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _log(f'Built {final}: {shape} uint8, {np.prod(shape) / 1e6:.0f} MB in '
         f'{build_s:.1f} s ({n / max(build_s, 1e-9):.0f} images/s).')
    images = np.load(osp.join(final, IMAGES_FILE), mmap_mode='r')
    return DecodedImages(images=images, labels=labels, is_synthetic=flags,
                         key=key, path=final)


def _build_or_load_local(ds, cache_dir, key, settings, labels, flags,
                         image_size, num_workers, verify) -> DecodedImages:
    os.makedirs(cache_dir, exist_ok=True)
    final = osp.join(cache_dir, key)
    _clean_leftovers(cache_dir, key)
    if osp.isdir(final):
        try:
            return _load(final, key, labels, flags, verify, num_workers)
        except CacheInvalid as e:
            _log(f'Cache {final} is invalid ({e}); rebuilding it.', level=30)
            _remove(final)
    elif osp.exists(final):
        _log(f'{final} is not a folder; rebuilding it.', level=30)
        os.remove(final)
    return _build(ds, cache_dir, key, settings, labels, flags, image_size,
                  num_workers)


def _local_rank() -> int:
    """This process's rank on its node: torchrun's / slurm's environment
    (mmengine's local process group exists only for some launchers)."""
    for var in ('LOCAL_RANK', 'SLURM_LOCALID'):
        if var in os.environ:
            return int(os.environ[var])
    return mm_dist.get_local_rank()


def build_or_load(dataset,
                  cache_dir: str,
                  image_size: ImageSize = None,
                  num_workers: Optional[int] = None,
                  verify: bool = True) -> DecodedImages:
    """Decoded images of ``dataset``, from ``cache_dir/<key>`` or built there.

    Args:
        dataset: a dataset whose ``get_data_info(i)`` gives ``img`` or
            ``img_path``, ``gt_label`` and ``is_synthetic`` (a wrapper with a
            ``.dataset`` is unwrapped).
        cache_dir: where cache folders live (one per key).
        image_size: ``int`` or ``(H, W)`` every image must have; ``None``:
            all must share the first image's size.
        num_workers: decode threads (OpenCV releases the GIL); default
            ``min(8, os.cpu_count())``. A build logs its progress and ETA
            every 10 s through the current MMEngine logger.
        verify: check the array's CRC-32s on load (reads it once). ``False``
            still checks meta, key, shape, dtype and file size.

    Under DDP every process must call it: local rank 0 builds or loads, the
    others wait at a barrier and then load (see the module docstring).
    """
    num_workers = num_workers or min(8, os.cpu_count() or 1)
    ds = _base_dataset(dataset)
    if len(ds) == 0:
        raise ValueError('The dataset has no samples to cache.')
    key, settings, labels, flags = _key_and_targets(ds, image_size)
    _, world_size = mm_dist.get_dist_info()
    if world_size <= 1:
        return _build_or_load_local(ds, cache_dir, key, settings, labels,
                                    flags, image_size, num_workers, verify)
    builder = _local_rank() == 0
    result, error = None, None
    if builder:
        try:
            result = _build_or_load_local(ds, cache_dir, key, settings,
                                          labels, flags, image_size,
                                          num_workers, verify)
        except Exception as e:  # let the others pass the barrier first
            error = e
    mm_dist.barrier()
    if error is not None:
        raise error
    if result is not None:
        return result
    folder = osp.join(cache_dir, key)
    try:
        # the builder just verified it: check the structure, not the bytes
        return _load(folder, key, labels, flags, False, num_workers)
    except CacheInvalid as e:
        raise RuntimeError(
            f'Rank {mm_dist.get_rank()}: no valid decoded-image cache at '
            f'{folder} after the barrier ({e}). The building process (local '
            'rank 0) failed: see its log. With several nodes, cache_dir must '
            'be shared by all or local to each.') from e
