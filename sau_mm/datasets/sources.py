"""Readers for the real image sources a LongTailSyntheticDataset can use.

Each reader returns ``(classes, samples)``: class names and a list of dicts
with either ``img`` (HxWx3 uint8 RGB array, for in-memory formats) or
``img_path`` (a file), plus ``gt_label``.
"""
import os
import os.path as osp
import pickle
from typing import List, Optional, Tuple

import numpy as np

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.ppm', '.pgm', '.tif',
                  '.tiff', '.webp')

_CIFAR = {
    'cifar10': dict(folder='cifar-10-batches-py',
                    train=[f'data_batch_{i}' for i in range(1, 6)],
                    test=['test_batch'], meta='batches.meta',
                    label_key='labels', names_key='label_names',
                    tv_class='CIFAR10'),
    'cifar100': dict(folder='cifar-100-python', train=['train'],
                     test=['test'], meta='meta', label_key='fine_labels',
                     names_key='fine_label_names', tv_class='CIFAR100'),
}

Sources = Tuple[List[str], List[dict]]


def _missing_root(data_root: str, how: str) -> FileNotFoundError:
    return FileNotFoundError(
        f'Data root {data_root!r} not found or incomplete. {how} See README '
        '"Data preparation".')


def _unpickle(path: str) -> dict:
    with open(path, 'rb') as f:
        return pickle.load(f, encoding='latin1')


def read_cifar(data_root: str, name: str, split: str,
               download: bool = False) -> Sources:
    """CIFAR-10/100 in the python-pickle layout (no md5 check on local data)."""
    spec = _CIFAR[name]
    folder = osp.join(data_root, spec['folder'])
    files = [osp.join(folder, f) for f in spec[split] + [spec['meta']]]
    if not all(osp.isfile(f) for f in files) and download:
        import torchvision.datasets
        getattr(torchvision.datasets, spec['tv_class'])(
            data_root, train=split == 'train', download=True)
    missing = [f for f in files if not osp.isfile(f)]
    if missing:
        raise _missing_root(
            data_root,
            f'Expected {missing[0]}. Run python tools/prepare_data.py '
            f'{name} (--data-root DIR for another place than data/), or put '
            f'the python version of {name} (folder {spec["folder"]}) under '
            'data_root.')
    images, labels = [], []
    for path in files[:-1]:
        batch = _unpickle(path)
        images.append(batch['data'])
        labels.extend(batch[spec['label_key']])
    data = np.concatenate(images).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    classes = cifar_classes(data_root, name)
    samples = [dict(img=np.ascontiguousarray(img), gt_label=int(label))
               for img, label in zip(data, labels)]
    return classes, samples


def cifar_labels(data_root: str, name: str, split: str) -> List[int]:
    """The labels of a CIFAR split, in file order, from its pickles' label
    arrays (the images are not decoded)."""
    spec = _CIFAR[name]
    labels = []
    for batch in spec[split]:
        labels.extend(_unpickle(osp.join(data_root, spec['folder'], batch))[
            spec['label_key']])
    return labels


def cifar_classes(data_root: str, name: str) -> List[str]:
    """The class names of a CIFAR folder, from its meta pickle."""
    spec = _CIFAR[name]
    return list(_unpickle(osp.join(data_root, spec['folder'], spec['meta']))[
        spec['names_key']])


def image_folder_classes(data_root: str, split: Optional[str]) -> List[str]:
    """The class names of ``data_root/<split>/<class>/<file>``: the sorted
    folder names (label c is the c-th)."""
    root = osp.join(data_root, split) if split else data_root
    if not osp.isdir(root):
        raise _missing_root(
            data_root, f'Expected class folders under {root!r}, laid out as '
            '<data_root>/<split>/<class>/<image>.')
    classes = sorted(d for d in os.listdir(root)
                     if osp.isdir(osp.join(root, d)))
    if not classes:
        raise ValueError(f'No class folders under {root!r}.')
    return classes


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMG_EXTENSIONS)


def non_image_files(data_root: str, split: Optional[str]) -> List[str]:
    """The files in the class folders of ``data_root/<split>`` that
    :func:`read_image_folder` skips (not ``IMG_EXTENSIONS``), as
    ``<class>/<file>``, sorted."""
    root = osp.join(data_root, split) if split else data_root
    return [f'{name}/{f}' for name in image_folder_classes(data_root, split)
            for f in sorted(os.listdir(osp.join(root, name)))
            if not _is_image(f) and osp.isfile(osp.join(root, name, f))]


def read_image_folder(data_root: str, split: Optional[str]) -> Sources:
    """``data_root/<split>/<class>/<file>``; classes are sorted folder names;
    files that are not ``IMG_EXTENSIONS`` are skipped
    (:func:`non_image_files` lists them)."""
    root = osp.join(data_root, split) if split else data_root
    classes = image_folder_classes(data_root, split)
    samples = []
    for label, name in enumerate(classes):
        files = sorted(f for f in os.listdir(osp.join(root, name))
                       if _is_image(f))
        if not files:
            raise ValueError(
                f'Class folder {osp.join(root, name)!r} has no images '
                f'({", ".join(IMG_EXTENSIONS)}). Remove the folder or add '
                'its images.')
        samples.extend(
            dict(img_path=osp.join(root, name, f), gt_label=label)
            for f in files)
    return classes, samples


def read_split_file(data_root: str, split_file: str,
                    check_files: bool = True) -> Sources:
    """ImageNet-LT style split file: ``relative/path label`` per line.

    Paths are relative to ``data_root``. Class names are the label indices
    as strings (give ``classes`` to the dataset for real names).
    """
    if not osp.isdir(data_root):
        raise _missing_root(data_root, 'It must hold the images the split '
                            'file names.')
    path = split_file if osp.isabs(split_file) else osp.join(
        data_root, split_file)
    if not osp.isfile(split_file) and not osp.isfile(path):
        raise FileNotFoundError(f'Split file {split_file!r} not found.')
    path = split_file if osp.isfile(split_file) else path
    samples = []
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.rsplit(maxsplit=1)
            if len(parts) != 2 or not parts[1].lstrip('-').isdigit():
                raise ValueError(f'{path}, line {line_no}: expected '
                                 f'"relative/path label", got {line!r}.')
            img_path = osp.join(data_root, parts[0])
            if check_files and not osp.isfile(img_path):
                raise FileNotFoundError(
                    f'{path}, line {line_no}: image {img_path!r} does not '
                    'exist. Check data_root or the split file.')
            samples.append(dict(img_path=img_path, gt_label=int(parts[1])))
    if not samples:
        raise ValueError(f'Split file {path!r} lists no images.')
    num_classes = max(s['gt_label'] for s in samples) + 1
    return [str(c) for c in range(num_classes)], samples
