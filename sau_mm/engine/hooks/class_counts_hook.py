"""ClassCountsHook: hand the training set's class counts to losses and metrics."""
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from sau_mm.datasets.long_tail import DEFAULT_SHOT_THRESHOLDS, SHOT_GROUPS
from sau_mm.datasets.wrappers import inner_dataset, long_tail_dataset_cfg

from .runner_access import find_long_tail_dataset

FIX_NUM_CLASSES = (
    'In a config built on configs/_base_/datasets/image_folder_lt.py set '
    'image_folder.num_classes={n} (or None, to count the class folders) and '
    'nothing else; in other configs set num_classes in the dataset base '
    'config (it feeds the train/val/test datasets, model.head.num_classes '
    'and data_preprocessor.num_classes) and in any leaf that overrides '
    'model.head.num_classes.')


@HOOKS.register_module()
class ClassCountsHook(Hook):
    """Before the run, check that the model's class count agrees with the
    data, then read the per-class counts of the training set and give them
    to

    - every model submodule with ``set_class_counts(counts)`` (re-balancing
      losses: counts of the training distribution, real + synthetic; the log
      confirms each, e.g. "LogitAdjustedLoss: class counts set, 101 classes,
      min 21 max 534");
    - every evaluator metric with ``set_train_class_counts(real_counts)``
      (many/medium/few groups follow the REAL counts, and the training
      dataset's ``shot_thresholds`` through ``set_shot_thresholds``); such a
      metric also gets ``out_dir = runner.log_dir`` when it has none. A
      group with no class under the default thresholds gets one log line
      naming the ``shot_thresholds`` key to set.

    The check: the head's ``num_classes`` (or the model's, e.g. the DiffuLT
    generator), the data preprocessor's, and the classes of the validation
    and test sets must all be the training set's; otherwise the run stops
    before its first iteration with an error naming both numbers and the
    config keys to fix (instead of torch's "Target 100 is out of bounds").
    """
    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        dataset = find_long_tail_dataset(runner)
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        check_class_count_agreement(runner, model, dataset)
        counts = dataset.class_counts
        for module in model.modules():
            if hasattr(module, 'set_class_counts'):
                module.set_class_counts(counts)
                print_log(
                    f'{type(module).__name__}: class counts set, '
                    f'{len(counts)} classes, min {min(counts)} max '
                    f'{max(counts)} (training images, real + synthetic)',
                    logger='current')
        grouped = False
        for name in ('val_evaluator', 'test_evaluator'):
            # private: the public property would build a loop this run does not use
            loop = getattr(runner, f'_{name.split("_")[0]}_loop', None)
            evaluator = getattr(loop, 'evaluator', None)
            for metric in getattr(evaluator, 'metrics', []):
                if hasattr(metric, 'set_train_class_counts'):
                    metric.set_train_class_counts(dataset.real_class_counts)
                    grouped = True
                    if getattr(metric, 'out_dir', None) is None:
                        metric.out_dir = runner.log_dir
                if hasattr(metric, 'set_shot_thresholds') and hasattr(
                        dataset, 'shot_thresholds'):
                    metric.set_shot_thresholds(dataset.shot_thresholds)
        if grouped:
            note_empty_shot_groups(runner, dataset)


def note_empty_shot_groups(runner, dataset) -> None:
    """One log line when a many/medium/few group has no class under the
    default thresholds, naming the setting that moves them."""
    thresholds = getattr(dataset, 'shot_thresholds', None)
    if thresholds != DEFAULT_SHOT_THRESHOLDS:
        return  # set by the user (or no groups at all)
    groups = dataset.shot_groups()
    empty = [g for g in SHOT_GROUPS if g not in groups]
    if not empty:
        return
    real = dataset.real_class_counts
    cfg = getattr(runner, 'cfg', None)
    # the training LongTailSyntheticDataset's key (below SAU's wrapper too)
    key = (long_tail_dataset_cfg(cfg)[0] if cfg is not None
           else 'train_dataloader.dataset')
    print_log(
        f'Shot groups: no class in {" / ".join(empty)} under the default '
        f'thresholds (many > {thresholds["many_above"]}, few < '
        f'{thresholds["few_below"]} real training images; this set has '
        f'{min(real)}..{max(real)} per class), so lt/{empty[0]} reads "no '
        f'class in this group". To regroup, set {key}.'
        'shot_thresholds=dict(many_above=M, few_below=F) (the metric '
        'follows it).', logger='current')


def check_class_count_agreement(runner, model, dataset) -> None:
    """Raise ValueError when the model or an evaluation set disagrees with
    the training set's class count (see :class:`ClassCountsHook`)."""
    n = len(dataset.class_counts)
    found = []
    head = getattr(model, 'head', None)
    if getattr(head, 'num_classes', None) is not None:
        found.append(('model.head.num_classes', head.num_classes))
    elif isinstance(getattr(model, 'num_classes', None), int):
        found.append(('model.num_classes', model.num_classes))
    preprocessor = getattr(model, 'data_preprocessor', None)
    if getattr(preprocessor, 'num_classes', None) is not None:
        found.append(('data_preprocessor.num_classes',
                      preprocessor.num_classes))
    where = (f'{type(dataset).__name__}, data_root={dataset.data_root!r}, '
             f'split={getattr(dataset, "split", None)!r}')
    bad = [f'{key}={value}' for key, value in found if value != n]
    if bad:
        raise ValueError(
            f'Class count mismatch: the training data has {n} classes '
            f'({where}) but {", ".join(bad)}. They must all be {n}. '
            + FIX_NUM_CLASSES.format(n=n))
    classes = tuple(dataset.metainfo['classes'])
    for split in ('val', 'test'):
        # private: the public property would build a loop this run does not use
        loop = getattr(runner, f'_{split}_loop', None)
        loader = getattr(loop, 'dataloader', None)
        other = inner_dataset(getattr(loader, 'dataset', None))
        if other is None:
            continue
        theirs = tuple(other.metainfo['classes'])
        if len(other.real_class_counts) != n:
            raise ValueError(
                f'Class count mismatch: the training data has {n} classes '
                f'({where}) but the {split} data has '
                f'{len(other.real_class_counts)} '
                f'({split}_dataloader.dataset, data_root='
                f'{other.data_root!r}, split='
                f'{getattr(other, "split", None)!r}). '
                + FIX_NUM_CLASSES.format(n=n))
        if getattr(dataset, 'source', None) == 'image_folder' and getattr(
                other, 'source', None) == 'image_folder' and theirs != classes:
            missing = sorted(set(classes) - set(theirs))
            extra = sorted(set(theirs) - set(classes))
            raise ValueError(
                f'The {split} class folders are not the training ones '
                f'(labels are positions in the sorted folder names, so '
                f'they would not match): missing in {split}: {missing[:5]}, '
                f'not in train: {extra[:5]}. Give '
                f'{other.data_root}/{other.split} the class folders of '
                f'{dataset.data_root}/{dataset.split}.')
