"""LongTailSyntheticDataset: real long-tailed images, optionally filled with
synthetic images from a manifest up to a target count per class."""
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
from mmengine.logging import print_log
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS
from PIL import Image

from .long_tail import (SHOT_GROUPS, SUBSET_METHODS, select_long_tail,
                        shot_group)
from .manifest import read_manifest, resolve_path
from .sources import read_cifar, read_image_folder, read_split_file

SOURCES = ('cifar10', 'cifar100', 'image_folder', 'split_file')


@DATASETS.register_module()
class LongTailSyntheticDataset(BaseDataset):
    """Real long-tailed data + synthetic complement.

    Real part, by ``source``:
      - ``'cifar10'`` / ``'cifar100'``: python-pickle layout under data_root;
      - ``'image_folder'``: ``data_root/<split>/<class>/<file>``;
      - ``'split_file'``: ImageNet-LT ``relative/path label`` lines.
    ``imbalance_factor`` (>= 1) keeps n_c = int(n_max * IF^(-c/(C-1))) images
    of class c; ``None`` keeps the source as it is (already long-tailed
    data, or a balanced test split). Which images, by ``subset_method`` with
    ``subset_seed`` (default 0): ``'ldam'`` (default), LDAM-DRW's split
    (Cao et al. 2019; np.random.seed(seed), then per class in order shuffle
    its indices in source order and keep the first n_c), the split most
    long-tail papers use; ``'seeded_choice'``, a per-class
    ``default_rng(seed).choice`` without replacement (the earlier default).
    The subset keeps the source order.

    Synthetic part: records of ``synthetic_manifest`` (see
    :mod:`sau_mm.datasets.manifest`) fill class c with
    ``max(0, target_count - real_c)`` images, in manifest order;
    ``target_count`` defaults to the largest real class. Too few images for a
    class is an error unless ``allow_partial_fill`` (then a warning).

    Every sample carries ``gt_label``, ``is_synthetic`` (set on the packed
    data sample by :meth:`prepare_data`) and ``sample_idx``; real samples
    come first (indices ``0 .. num_real - 1``).
    """

    def __init__(self,
                 data_root: str,
                 source: str,
                 split: str = 'train',
                 imbalance_factor: Optional[float] = None,
                 subset_seed: int = 0,
                 subset_method: str = 'ldam',
                 num_classes: Optional[int] = None,
                 classes: Optional[Sequence[str]] = None,
                 split_file: Optional[str] = None,
                 synthetic_manifest: Optional[str] = None,
                 target_count: Optional[int] = None,
                 allow_partial_fill: bool = False,
                 verify_synthetic: bool = True,
                 download: bool = False,
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 **kwargs):
        if source not in SOURCES:
            raise ValueError(f'source must be one of {SOURCES}, got '
                             f'{source!r}.')
        if imbalance_factor is not None and imbalance_factor < 1:
            raise ValueError(
                f'imbalance_factor must be >= 1 (n_max / n_min), got '
                f'{imbalance_factor}.')
        if subset_method not in SUBSET_METHODS:
            raise ValueError(f'subset_method must be one of {SUBSET_METHODS}'
                             f', got {subset_method!r}.')
        if source == 'split_file' and not split_file:
            raise ValueError("source='split_file' needs split_file=...")
        self.source = source
        self.split = split
        self.imbalance_factor = imbalance_factor
        self.subset_seed = subset_seed
        self.subset_method = subset_method
        self.num_classes = num_classes
        self.split_file = split_file
        self.synthetic_manifest = synthetic_manifest
        self.target_count = target_count
        self.allow_partial_fill = allow_partial_fill
        self.verify_synthetic = verify_synthetic
        self.download = download
        self._user_classes = classes
        super().__init__(
            ann_file='',
            data_root=data_root,
            pipeline=pipeline,
            test_mode=test_mode,
            classes=classes,
            **kwargs)

    # ------------------------------------------------------------------ real
    def _read_source(self):
        if self.source in ('cifar10', 'cifar100'):
            return read_cifar(self.data_root, self.source, self.split,
                              self.download)
        if self.source == 'image_folder':
            return read_image_folder(self.data_root, self.split)
        return read_split_file(self.data_root, self.split_file)

    def load_data_list(self) -> List[dict]:
        classes, real = self._read_source()
        if self._user_classes is not None:
            classes = list(self._user_classes)
        num_classes = len(classes)
        if self.source == 'split_file' and self.num_classes:
            num_classes = self.num_classes
        if self.num_classes is not None and self.num_classes != num_classes:
            raise ValueError(
                f'num_classes={self.num_classes} disagrees with the data '
                f'({num_classes} classes in {self.data_root!r}). Fix '
                'num_classes in the config (model head and dataset).')
        labels = np.array([s['gt_label'] for s in real])
        if labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError(f'Labels must lie in [0, {num_classes}), found '
                             f'{labels.min()}..{labels.max()}.')
        if self.imbalance_factor is not None:
            keep = select_long_tail(labels, num_classes,
                                    self.imbalance_factor, self.subset_seed,
                                    method=self.subset_method)
            real = [real[i] for i in keep]
            labels = labels[keep]
        self._metainfo['classes'] = tuple(classes)
        self.real_class_counts = np.bincount(
            labels, minlength=num_classes).tolist()
        synthetic = self._load_synthetic(num_classes)
        self.synthetic_class_counts = np.bincount(
            [s['gt_label'] for s in synthetic],
            minlength=num_classes).tolist()
        data_list = []
        for is_synthetic, part in ((False, real), (True, synthetic)):
            for sample in part:
                sample['is_synthetic'] = is_synthetic
                sample['sample_idx'] = len(data_list)
                data_list.append(sample)
        self.num_real = len(real)
        self._log_counts()
        return data_list

    # ------------------------------------------------------------- synthetic
    def _load_synthetic(self, num_classes: int) -> List[dict]:
        if not self.synthetic_manifest:
            return []
        if not osp.isfile(self.synthetic_manifest):
            raise FileNotFoundError(
                f'Synthetic manifest {self.synthetic_manifest!r} not found. '
                'Make it with tools/generate_synthetic.py (text-to-image) '
                'or tools/diffult_sample.py (DiffuLT), or build one from an '
                'image folder with tools/manifest_from_folder.py; or set '
                'synthetic_manifest=None for real data only.')
        records = read_manifest(self.synthetic_manifest)
        target = self.target_count or max(self.real_class_counts)
        needed = [max(0, target - n) for n in self.real_class_counts]
        chosen = [[] for _ in range(num_classes)]
        for line_no, rec in enumerate(records, 1):
            if not 0 <= rec.label < num_classes:
                raise ValueError(
                    f'{self.synthetic_manifest}, record {line_no}: label '
                    f'{rec.label} is outside [0, {num_classes}). Was the '
                    'manifest made for another dataset?')
            if len(chosen[rec.label]) < needed[rec.label]:
                chosen[rec.label].append(rec)
        short = {c: (len(chosen[c]), needed[c]) for c in range(num_classes)
                 if len(chosen[c]) < needed[c]}
        if short:
            detail = ', '.join(f'class {c} ({self._metainfo["classes"][c]}):'
                               f' {have}/{need}'
                               for c, (have, need) in short.items())
            if not self.allow_partial_fill:
                raise ValueError(
                    f'{self.synthetic_manifest} has too few images to fill '
                    f'every class to {target}: {detail}. Generate more, or '
                    'set allow_partial_fill=True to train with what exists.')
            print_log(f'Partial synthetic fill (have/needed): {detail}',
                      logger='current', level=30)
        samples = []
        for recs in chosen:
            for rec in recs:
                path = resolve_path(self.synthetic_manifest, rec)
                self._check_image(path)
                samples.append(dict(img_path=path, gt_label=rec.label))
        return samples

    def _check_image(self, path: str) -> None:
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'Synthetic image {path!r} listed in '
                f'{self.synthetic_manifest!r} does not exist. Rerun the '
                'generator (it resumes) or remove the record.')
        if self.verify_synthetic:
            try:
                with Image.open(path) as img:
                    img.verify()
            except Exception as e:
                raise ValueError(
                    f'Synthetic image {path!r} is unreadable or corrupt '
                    f'({e}). Delete it and rerun the generator (it resumes).'
                ) from e

    def prepare_data(self, idx: int):
        """The pipeline's output; when it packs a data sample, the dataset
        sets ``is_synthetic`` on it itself (no config key needed, so a model
        that needs the flag always finds it)."""
        data_info = self.get_data_info(idx)
        results = self.pipeline(data_info)
        sample = results.get('data_samples') if isinstance(results,
                                                           dict) else None
        if sample is not None:
            sample.set_field(bool(data_info['is_synthetic']), 'is_synthetic')
        return results

    # ------------------------------------------------------------- reporting
    @property
    def class_counts(self) -> List[int]:
        """Training-distribution counts: real + synthetic per class."""
        return [r + s for r, s in zip(self.real_class_counts,
                                      self.synthetic_class_counts)]

    @property
    def real_indices(self) -> np.ndarray:
        """Indices of the real samples (they come first)."""
        return np.arange(self.num_real)

    def shot_groups(self) -> List[str]:
        """'many' / 'medium' / 'few' per class, from real training counts."""
        return [shot_group(n) for n in self.real_class_counts]

    def _log_counts(self) -> None:
        groups = self.shot_groups()
        lines = [
            f'{self.__class__.__name__} ({self.source}, split={self.split},'
            f' IF={self.imbalance_factor}, subset={self.subset_method},'
            f' seed={self.subset_seed}): '
            f'{sum(self.real_class_counts)} real + '
            f'{sum(self.synthetic_class_counts)} synthetic images, '
            f'{len(groups)} classes'
        ]
        if self.test_mode:  # groups describe training sets only
            print_log(lines[0], logger='current')
            return
        for g in SHOT_GROUPS:
            lines.append(f'  {g:6s}: {groups.count(g)} classes')
        lines.append('  class: real + synthetic (group)')
        for c, name in enumerate(self._metainfo['classes']):
            lines.append(f'  {c:4d} {name}: {self.real_class_counts[c]} + '
                         f'{self.synthetic_class_counts[c]} ({groups[c]})')
        print_log('\n'.join(lines), logger='current')
