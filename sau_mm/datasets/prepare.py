"""Fetch or unpack the datasets the configs read, and verify them.

* ``cifar10`` / ``cifar100``: the official python-version archives, downloaded
  with MMPretrain's download helper (or taken from a local copy), checked
  against their published md5 and unpacked to
  ``<data_root>/cifar10/cifar-10-batches-py`` and
  ``<data_root>/cifar100/cifar-100-python`` (configs/_base_/datasets).
* ``cifar10-jpeg``: this project's JPEG re-encoding of CIFAR-10, local copy
  only, unpacked to ``<data_root>/cifar10-jpeg/{train,test}/<class>/NNNN.jpg``.
* ``imagenet-lt``: not downloadable (ImageNet needs a registration); a check of
  a folder against the ImageNet-LT split files.

What was unpacked is verified (images per split and class) before it is moved
into place, so an interrupted run leaves nothing half-made behind, and a
second run finds the verified data and does nothing.
"""
import os
import os.path as osp
import pickle
import shutil
import tarfile
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from tqdm import tqdm

from .sources import (IMG_EXTENSIONS, cifar_classes, cifar_labels,
                      read_split_file)


class PrepareError(RuntimeError):
    """A problem with an archive or a data folder, with what to do about it."""


@dataclass(frozen=True)
class ArchiveSpec:
    """One dataset archive: where it comes from and what it must unpack to.

    The archive holds one top folder, ``folder``; it is unpacked to
    ``<data_root>/<subdir>/<folder>`` and must then hold ``per_class[split]``
    images of each of ``num_classes`` classes in every split.
    """
    filename: str
    md5: str
    url: Optional[str]  # None: not downloadable
    subdir: str
    folder: str
    kind: str  # 'cifar10' / 'cifar100' (pickles) or 'image_folder'
    num_classes: int
    per_class: Dict[str, int] = field(default_factory=dict)


ARCHIVES = {
    'cifar10': ArchiveSpec(
        filename='cifar-10-python.tar.gz',
        md5='c58f30108f718f92721af3b95e74349a',
        url='https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz',
        subdir='cifar10', folder='cifar-10-batches-py', kind='cifar10',
        num_classes=10, per_class={'train': 5000, 'test': 1000}),
    'cifar100': ArchiveSpec(
        filename='cifar-100-python.tar.gz',
        md5='eb9058c3a382ffc7106e4002c42a8d85',
        url='https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz',
        subdir='cifar100', folder='cifar-100-python', kind='cifar100',
        num_classes=100, per_class={'train': 500, 'test': 100}),
    'cifar10-jpeg': ArchiveSpec(
        filename='cifar10-jpeg.tar.gz',
        md5='264b19c5cb807d8fd8a5a6dfb1337793',
        url=None, subdir='', folder='cifar10-jpeg', kind='image_folder',
        num_classes=10, per_class={'train': 5000, 'test': 1000}),
}


def target_dir(name: str, data_root: str) -> str:
    """The folder the configs read for dataset ``name`` under ``data_root``."""
    spec = ARCHIVES[name]
    return osp.join(data_root, spec.subdir, spec.folder)


def count_images(folder: str, spec: ArchiveSpec) -> Dict[str, Counter]:
    """Images per class of every split of an unpacked ``folder``: for the
    pickles, counted from their label arrays; for an image folder, the image
    files of ``<split>/<class>/``."""
    counts = {}
    for split in spec.per_class:
        if spec.kind == 'image_folder':
            root = osp.join(folder, split)
            if not osp.isdir(root):
                raise PrepareError(f'{root} is missing.')
            counts[split] = Counter({
                entry.name: sum(1 for f in os.scandir(entry.path)
                                if f.name.lower().endswith(IMG_EXTENSIONS))
                for entry in os.scandir(root) if entry.is_dir()})
        else:
            root = osp.dirname(folder)
            names = cifar_classes(root, spec.kind)
            if len(names) != spec.num_classes:
                raise PrepareError(f'the meta file of {folder} names '
                                   f'{len(names)} classes, not '
                                   f'{spec.num_classes}.')
            counts[split] = Counter(
                names[y] for y in cifar_labels(root, spec.kind, split))
    return counts


def verify(folder: str, spec: ArchiveSpec) -> List[str]:
    """What is wrong with an unpacked ``folder`` (empty: complete)."""
    try:
        counts = count_images(folder, spec)
    except (PrepareError, OSError, KeyError, IndexError, ValueError,
            pickle.UnpicklingError) as e:
        return [str(e)]
    problems = []
    for split, expected in spec.per_class.items():
        per_class = counts[split]
        if len(per_class) != spec.num_classes:
            problems.append(f'{split}: {len(per_class)} classes, expected '
                            f'{spec.num_classes}')
        wrong = {c: n for c, n in sorted(per_class.items()) if n != expected}
        if wrong:
            shown = ', '.join(f'{c}: {n}' for c, n in list(wrong.items())[:5])
            problems.append(f'{split}: {len(wrong)} of {len(per_class)} '
                            f'classes do not have {expected} images ({shown})')
    return problems


def summary(folder: str, spec: ArchiveSpec) -> str:
    counts = count_images(folder, spec)
    return ', '.join(
        f'{split} {sum(counts[split].values())} images '
        f'({spec.num_classes} classes x {n})'
        for split, n in spec.per_class.items())


def fetch_archive(name: str, data_root: str) -> str:
    """Download the archive of ``name`` into ``<data_root>/<subdir>`` with
    MMPretrain's download helper (progress bar, written to a temporary file
    and moved into place when complete); an archive already there is kept."""
    spec = ARCHIVES[name]
    if spec.url is None:
        raise PrepareError(
            f'{name} is not downloadable: {spec.filename} is a local archive '
            f'(not published online). Pass --archive PATH/{spec.filename}, '
            'or prepare cifar10 (the original CIFAR-10, downloaded).')
    path = osp.join(data_root, spec.subdir, spec.filename)
    if osp.isfile(path):
        print(f'Using the archive already downloaded: {path}')
        return path
    from mmpretrain.datasets.utils import download_url_to_file
    os.makedirs(osp.dirname(path), exist_ok=True)
    print(f'Downloading {spec.url} to {path}')
    try:
        download_url_to_file(spec.url, path)
    except OSError as e:
        raise PrepareError(
            f'Download of {spec.url} failed ({e}). Check the network, or '
            f'download {spec.filename} elsewhere and pass --archive PATH.'
        ) from e
    return path


def check_md5(path: str, spec: ArchiveSpec, downloaded: bool) -> None:
    from mmpretrain.datasets.utils import calculate_md5
    actual = calculate_md5(path)
    if actual != spec.md5:
        fix = ('Delete it and run again to download it anew.' if downloaded
               else f'Get a fresh copy of {spec.filename}.')
        raise PrepareError(
            f'{path}: md5 {actual}, expected {spec.md5} (the md5 of '
            f'{spec.filename}). The file is damaged or not {spec.filename}. '
            f'{fix}')
    print(f'md5 {actual} matches: {path}')


def unpack(path: str, spec: ArchiveSpec, into: str) -> str:
    """Unpack the archive at ``path`` into the folder ``into`` (progress bar
    over its members); returns the unpacked top folder."""
    with tarfile.open(path) as tar:
        members = tar.getmembers()
        tops = sorted({m.name.split('/', 1)[0] for m in members})
        if tops != [spec.folder]:
            raise PrepareError(
                f'{path} does not hold the expected layout: its top-level '
                f'entries are {tops[:5]}, expected only the folder '
                f'{spec.folder}/. Is it {spec.filename}?')
        tar.extractall(into, filter='data', members=tqdm(
            members, desc=f'unpack {osp.basename(path)}', unit='file'))
    return osp.join(into, spec.folder)


def prepare_archive(name: str, data_root: str = 'data',
                    archive: Optional[str] = None) -> str:
    """Make ``target_dir(name, data_root)`` hold the verified dataset, from
    ``archive`` (a local copy) or a download; returns that folder. Nothing is
    done when it already holds the verified dataset."""
    spec = ARCHIVES[name]
    target = target_dir(name, data_root)
    if osp.exists(target):
        problems = verify(target, spec)
        if problems:
            raise PrepareError(
                f'{target} exists but is not a complete {name}: '
                f'{"; ".join(problems[:3])}. Delete it and run again.')
        print(f'{target} already holds the verified {name} '
              f'({summary(target, spec)}): nothing to do.')
        return target
    if archive is not None:
        if not osp.isfile(archive):
            raise PrepareError(f'Archive {archive} not found. Give the path '
                               f'of {spec.filename}.')
        path = archive
    else:
        path = fetch_archive(name, data_root)
    check_md5(path, spec, downloaded=archive is None)
    parent = osp.dirname(target)
    os.makedirs(parent, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=f'.{spec.folder}.unpack-', dir=parent)
    try:
        unpacked = unpack(path, spec, scratch)
        problems = verify(unpacked, spec)
        if problems:
            raise PrepareError(
                f'{path} unpacked to an incomplete {name}: '
                f'{"; ".join(problems[:3])}. Get a fresh copy of '
                f'{spec.filename}.')
        os.replace(unpacked, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f'{target}: verified {name} ({summary(target, spec)}).')
    return target


# ImageNet-LT ---------------------------------------------------------------

IMAGENET_LT_SPLITS = {'train': 115846, 'val': 20000, 'test': 50000}

IMAGENET_LT_SOURCES = """\
ImageNet-LT (Liu et al., "Large-Scale Long-Tailed Recognition in an Open
World", CVPR 2019) is a long-tailed subset of ImageNet 2012 (ILSVRC2012):
1000 classes, 1280 to 5 training images per class.
- Split files ImageNet_LT_train.txt / ImageNet_LT_val.txt / ImageNet_LT_test.txt
  (115,846 / 20,000 / 50,000 lines "relative/path label"): from the OLTR
  project, github.com/zhmiao/OpenLongTailRecognition-OLTR (README, "Data
  preparation"). Put them in the data root.
- Images: ILSVRC2012 from image-net.org (free registration), train and val.
  The split files name them as train/<wnid>/<file>.JPEG (train and val
  splits) and val/<wnid>/ILSVRC2012_val_<n>.JPEG (test split): unpack the
  train images into train/<wnid>/ and sort the val images into class folders
  val/<wnid>/ under the same data root.
The configs read data/imagenet (configs/_base_/datasets/imagenet_lt.py)."""


@dataclass
class SplitCheck:
    """One split file checked against a folder."""
    split: str
    listed: int = 0
    classes: int = 0
    missing: List[str] = field(default_factory=list)
    problem: Optional[str] = None  # the split file itself is missing or bad

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.missing

    def describe(self, first: int = 5) -> str:
        if self.problem:
            return f'{self.split}: {self.problem}'
        text = (f'{self.split}: {self.listed} images listed ({self.classes} '
                f'classes), {self.listed - len(self.missing)} found')
        standard = IMAGENET_LT_SPLITS.get(self.split)
        if standard is not None and self.listed != standard:
            text += f' (the standard split file lists {standard})'
        if self.missing:
            text += (f'; {len(self.missing)} missing, first '
                     f'{min(first, len(self.missing))}: '
                     + ', '.join(self.missing[:first]))
        return text


def check_imagenet_lt(data_root: str) -> List[SplitCheck]:
    """Every ImageNet-LT split file in ``data_root`` against the images there:
    lines, classes, and the files it names that do not exist."""
    if not osp.isdir(data_root):
        raise PrepareError(f'{data_root} is not a folder. Give the folder '
                           'that holds the ImageNet-LT split files and images.')
    checks = []
    for split in IMAGENET_LT_SPLITS:
        check = SplitCheck(split)
        checks.append(check)
        split_file = osp.join(data_root, f'ImageNet_LT_{split}.txt')
        if not osp.isfile(split_file):
            check.problem = f'{split_file} not found'
            continue
        try:
            _, samples = read_split_file(data_root, split_file,
                                         check_files=False)
        except ValueError as e:
            check.problem = str(e)
            continue
        check.listed = len(samples)
        check.classes = len({s['gt_label'] for s in samples})
        check.missing = [
            osp.relpath(s['img_path'], data_root)
            for s in tqdm(samples, desc=f'check {split}', unit='img')
            if not osp.isfile(s['img_path'])]
    return checks
