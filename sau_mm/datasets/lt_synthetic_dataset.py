"""LongTailSyntheticDataset: real long-tailed images, optionally filled with
synthetic images from a manifest up to a target count per class."""
import difflib
import inspect
import os
import os.path as osp
from collections import Counter
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dist import get_rank
from mmengine.logging import MMLogger, print_log
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .image_check import inspect_images
from .long_tail import (SHOT_GROUPS, SUBSET_METHODS, check_shot_thresholds,
                        select_long_tail, shot_group, shot_group_rule)
from .manifest import (check_unique_images, read_manifest_lines,
                       resolve_path)
from .sources import (IMG_EXTENSIONS, non_image_files, read_cifar,
                      read_image_folder, read_split_file)

SOURCES = ('cifar10', 'cifar100', 'image_folder', 'split_file')
# verify_real=None checks the real images of an image folder of up to this
# many images (about 5 s per 50,000 small JPEGs, README "Your own data").
AUTO_VERIFY_MAX_IMAGES = 100_000
# A per-class listing of more classes than this goes to a file in the run's
# log folder and the log gets a summary; inline listings stop at INLINE.
LOG_MAX_CLASSES = 20
INLINE = 5


@DATASETS.register_module()
class LongTailSyntheticDataset(BaseDataset):
    """Real long-tailed data + synthetic complement.

    Real part, by ``source``:
      - ``'cifar10'`` / ``'cifar100'``: python-pickle layout under data_root;
      - ``'image_folder'``: ``data_root/<split>/<class>/<file>`` (files
        that are not images are skipped; the log counts them);
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

    Image size: ``image_size`` (an int, or (height, width); CIFAR sources
    default to 32) is the size of every image as loaded: LoadImage resizes
    any other size to it (aspect ratio not kept), and the log counts the
    real and synthetic images that had another size. Without it, synthetic
    images are resized to the real images' size when all real images share
    one (never silently cropped by a later RandomCrop).

    Start-up checks: every synthetic image (``verify_synthetic``) and, with
    ``verify_real`` (None: on for image folders of up to
    ``AUTO_VERIFY_MAX_IMAGES`` images), every real image file is decoded in
    full; a damaged file is an error naming it.

    Shot groups (log, and LongTailAccuracy through ClassCountsHook):
    ``shot_thresholds=dict(many_above=100, few_below=20)``.

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
                 verify_real: Optional[bool] = None,
                 image_size: Union[None, int, Sequence[int]] = None,
                 shot_thresholds: Optional[dict] = None,
                 download: bool = False,
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 **kwargs):
        check_options(kwargs)
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
        self.verify_real = verify_real
        self.image_size = image_size
        self.target_size = _as_hw(image_size, source)
        self.shot_thresholds = check_shot_thresholds(shot_thresholds)
        self.download = download
        self._user_classes = classes
        self.skipped_files = []  # image folders: files that are no images
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
            self.skipped_files = non_image_files(self.data_root, self.split)
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
                'num_classes in the config (model head and dataset); in a '
                'config built on _base_/datasets/image_folder_lt.py set '
                'image_folder.num_classes (None counts the class folders).')
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
        self._check_images(real, synthetic)
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
        numbered = read_manifest_lines(self.synthetic_manifest)
        check_unique_images(self.synthetic_manifest, numbered)
        target = self.target_count or max(self.real_class_counts)
        needed = [max(0, target - n) for n in self.real_class_counts]
        chosen = [[] for _ in range(num_classes)]
        for line_no, rec in numbered:
            if not 0 <= rec.label < num_classes:
                raise ValueError(
                    f'{self.synthetic_manifest}, line {line_no}: label '
                    f'{rec.label} is outside [0, {num_classes}). Was the '
                    'manifest made for another dataset?')
            if len(chosen[rec.label]) < needed[rec.label]:
                chosen[rec.label].append(rec)
        short = {c: (len(chosen[c]), needed[c]) for c in range(num_classes)
                 if len(chosen[c]) < needed[c]}
        if short:
            self._report_short(short, target, num_classes)
        elif not any(needed):
            self._warn_nothing_used(target, bool(numbered))
        samples = []
        for recs in chosen:
            for rec in recs:
                path = resolve_path(self.synthetic_manifest, rec)
                if not osp.isfile(path):
                    raise FileNotFoundError(
                        f'Synthetic image {path!r} listed in '
                        f'{self.synthetic_manifest!r} does not exist. Rerun '
                        'the generator (it resumes) or remove the record.')
                samples.append(dict(img_path=path, gt_label=rec.label))
        return samples

    def _warn_nothing_used(self, target: int, has_records: bool) -> None:
        """A manifest that adds no image to the training set: say why."""
        real = self.real_class_counts
        if not has_records:
            why = 'it lists no image'
        else:
            rule = ('target_count' if self.target_count else
                    'the largest real class')
            why = (f'every class already has {target} or more real images '
                   f'({min(real)}..{max(real)}; the fill target {target} is '
                   f'{rule}), so no class needs a synthetic image. Set '
                   f'target_count above {max(real)} to fill every class up '
                   'to it')
        print_log(f'Synthetic manifest {self.synthetic_manifest} adds no '
                  f'image to the {self.split} set: {why}. This run trains '
                  f'on the {sum(real)} real images only.', logger='current',
                  level=30)

    def _report_short(self, short: dict, target: int,
                      num_classes: int) -> None:
        """Too few synthetic images for some classes: an error, or with
        allow_partial_fill a warning; a short summary either way (naming
        every class that gets no synthetic image at all), the full list in a
        file of the run's log folder when it is long."""
        names = self._metainfo['classes']
        rows = [f'class {c} ({names[c]}): {have}/{need}'
                for c, (have, need) in short.items()]
        missing = sum(need - have for have, need in short.values())
        none = [f'{c} ({names[c]})' for c, (have, _) in short.items()
                if have == 0]
        summary = (f'{len(short)} of {num_classes} classes short, '
                   f'{missing} images missing (have/needed: '
                   + ', '.join(rows[:INLINE]))
        if len(rows) > INLINE:
            path = self._write_listing(
                f'synthetic_partial_fill_{self.split}.txt',
                [f'{self.synthetic_manifest}: synthetic images per short '
                 f'class, have/needed to reach {target}'] + rows)
            summary += f', and {len(rows) - INLINE} more' + (
                f'; full list in {path})' if path else
                ': ' + ', '.join(rows[INLINE:]) + ')')
        else:
            summary += ')'
        if none:
            summary += (f'; {len(none)} classes get no synthetic image: '
                        + ', '.join(none[:LOG_MAX_CLASSES])
                        + (f', and {len(none) - LOG_MAX_CLASSES} more'
                           if len(none) > LOG_MAX_CLASSES else ''))
        if not self.allow_partial_fill:
            raise ValueError(
                f'{self.synthetic_manifest} has too few images to fill '
                f'every class to {target}: {summary}. Generate more, or '
                'set allow_partial_fill=True to train with what exists.')
        print_log(f'Partial synthetic fill to {target}: {summary}.',
                  logger='current', level=30)

    # ---------------------------------------------------------- image files
    def _check_images(self, real: List[dict], synthetic: List[dict]) -> None:
        """Decode the image files in full (synthetic: ``verify_synthetic``;
        real: ``verify_real``), read their sizes, and have LoadImage resize
        every image to the target size (the log counts the resized ones)."""
        real_paths = [s['img_path'] for s in real if s.get('img') is None]
        verify_real = self.verify_real
        if verify_real is None:
            verify_real = (self.source == 'image_folder'
                           and len(real_paths) <= AUTO_VERIFY_MAX_IMAGES)
        self.verified_real = bool(verify_real and real_paths)
        target = self.target_size
        real_sizes = None
        if real_paths and (verify_real or target is not None):
            real_sizes, bad = inspect_images(real_paths, decode=verify_real)
            if bad:
                raise self._damaged_error('Real', bad, (
                    'Replace it with a good copy or delete it (its class '
                    'keeps its other images), then rerun. verify_real=False '
                    'in the dataset config skips this check; a damaged file '
                    'then fails, or loads grey, mid-training.'))
        elif real and not real_paths:  # in memory (CIFAR pickles)
            real_sizes = [s['img'].shape[1::-1] for s in real]
        syn_sizes = None
        syn_paths = [s['img_path'] for s in synthetic]
        if syn_paths and (self.verify_synthetic or target is not None
                          or real_sizes):
            syn_sizes, bad = inspect_images(syn_paths,
                                            decode=self.verify_synthetic)
            if bad:
                raise self._damaged_error(
                    'Synthetic', bad, 'Delete it and rerun the generator (it '
                    'resumes).', what='is unreadable or corrupt')
        if target is None and syn_sizes and real_sizes and \
                len(set(map(tuple, real_sizes))) == 1:
            w, h = real_sizes[0]
            target = (h, w)  # the synthetic images follow the real ones
        self.target_size = target
        self.resized_counts = {}
        if target is None:
            return
        for part, sizes, samples in (('real', real_sizes, real),
                                     ('synthetic', syn_sizes, synthetic)):
            for sample in samples:
                sample['resize_to'] = target
            if sizes is not None:
                other = Counter(f'{w}x{h}' for w, h in sizes
                                if (h, w) != tuple(target))
                self.resized_counts[part] = (sum(other.values()), len(sizes),
                                             other)
        self._log_resized()

    def _log_resized(self) -> None:
        h, w = self.target_size
        parts, warn = [], False
        for part, (n, total, other) in self.resized_counts.items():
            if n:
                top = ', '.join(f'{s}: {k}' for s, k in other.most_common(3))
                parts.append(f'{n} of {total} {part} images ({top}'
                             f'{", ..." if len(other) > 3 else ""})')
                warn |= part == 'synthetic'
        if parts:
            print_log(
                f'{self.__class__.__name__} (split={self.split}): '
                f'{" and ".join(parts)} are not {w}x{h} (width x height): '
                f'LoadImage resizes them to {w}x{h} (aspect ratio not kept; '
                'image_size sets the size).', logger='current',
                level=30 if warn else 20)

    def _damaged_error(self, kind: str, bad: dict, todo: str,
                       what: str = 'cannot be decoded in full') -> Exception:
        paths = list(bad)
        first = paths[0]
        more = ''
        if len(paths) > 1:
            listing = self._write_listing(
                f'damaged_images_{self.split}.txt',
                [f'{p}\t{bad[p]}' for p in paths]) \
                if len(paths) > INLINE else None
            more = (f' {len(paths) - 1} more damaged file(s): '
                    + ', '.join(repr(p) for p in paths[1:INLINE])
                    + (f', ... (full list in {listing})' if listing else
                       ', ...' if len(paths) > INLINE else '') + '.')
        return ValueError(f'{kind} image {first!r} {what} ({bad[first]}): '
                          f'the file is damaged or not an image. {todo}'
                          f'{more}')

    def _write_listing(self, name: str, lines: Sequence[str]
                       ) -> Optional[str]:
        """Write ``lines`` to ``name`` in the current run's log folder (next
        to the log file); None outside a run (no log file)."""
        log_file = MMLogger.get_current_instance().log_file
        if not log_file:
            return None
        path = osp.join(osp.dirname(log_file), name)
        if get_rank() == 0:
            os.makedirs(osp.dirname(path), exist_ok=True)
            with open(path, 'w') as f:
                f.write('\n'.join(lines) + '\n')
        return path

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
        """'many' / 'medium' / 'few' per class, from real training counts
        (``shot_thresholds``)."""
        return [shot_group(n, **self.shot_thresholds)
                for n in self.real_class_counts]

    def _log_counts(self) -> None:
        groups = self.shot_groups()
        checked = ', real images checked (full decode)' if getattr(
            self, 'verified_real', False) else ''
        skipped = self.skipped_files
        if skipped:
            checked += (
                f', {len(skipped)} non-image files skipped (not '
                f'{"/".join(IMG_EXTENSIONS)}: '
                + ', '.join(repr(f) for f in skipped[:3])
                + (', ...' if len(skipped) > 3 else '') + ')')
        lines = [
            f'{self.__class__.__name__} ({self.source}, split={self.split},'
            f' IF={self.imbalance_factor}, subset={self.subset_method},'
            f' seed={self.subset_seed}): '
            f'{sum(self.real_class_counts)} real + '
            f'{sum(self.synthetic_class_counts)} synthetic images, '
            f'{len(groups)} classes{checked}'
        ]
        if self.test_mode:  # groups describe training sets only
            print_log(lines[0], logger='current')
            return
        for g in SHOT_GROUPS:
            n = groups.count(g)
            rule = shot_group_rule(g, **self.shot_thresholds)
            lines.append(f'  {g:6s}: {n} classes ({rule})' if n else
                         f'  {g:6s}: no class in this group ({rule})')
        listing = ['  class: real + synthetic (group)'] + [
            f'  {c:4d} {name}: {self.real_class_counts[c]} + '
            f'{self.synthetic_class_counts[c]} ({groups[c]})'
            for c, name in enumerate(self._metainfo['classes'])]
        path = None
        if len(groups) > LOG_MAX_CLASSES:
            path = self._write_listing(f'class_counts_{self.split}.txt',
                                       lines + listing)
        if path:
            real = self.real_class_counts
            lines.append(f'  real images per class: min {min(real)}, median '
                         f'{int(np.median(real))}, max {max(real)}; '
                         f'per-class list in {path}')
        else:
            lines += listing
        print_log('\n'.join(lines), logger='current')


def dataset_options() -> List[str]:
    """The keys a LongTailSyntheticDataset config takes: its own arguments
    and those it hands to MMPretrain's BaseDataset."""
    names = set()
    for fn in (LongTailSyntheticDataset.__init__, BaseDataset.__init__):
        names |= {p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind is p.POSITIONAL_OR_KEYWORD}
    return sorted(names - {'self', 'ann_file'})


def check_options(options: Iterable[str]) -> None:
    """A one-line ValueError naming the first key of ``options`` that is not
    a dataset option (with the closest option's name when one is close),
    instead of BaseDataset's TypeError traceback."""
    known = dataset_options()
    for key in options:
        if key in known or key == 'type':
            continue
        close = difflib.get_close_matches(key, known, n=1)
        raise ValueError(
            f'LongTailSyntheticDataset has no option {key!r}' +
            (f': did you mean {close[0]!r}?' if close else
             f'; its options: {", ".join(known)}.'))


def _as_hw(image_size, source: str) -> Optional[Tuple[int, int]]:
    """``image_size`` as (height, width); CIFAR sources default to 32."""
    if image_size is None:
        return (32, 32) if source in ('cifar10', 'cifar100') else None
    size = (image_size, image_size) if isinstance(image_size, int) else \
        tuple(image_size)
    if len(size) != 2 or not all(isinstance(v, int) and v > 0 for v in size):
        raise ValueError('image_size must be a positive int or (height, '
                         f'width), got {image_size!r}.')
    return size
