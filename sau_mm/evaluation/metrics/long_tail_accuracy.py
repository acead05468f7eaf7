"""LongTailAccuracy: top-1/top-5, many/medium/few top-1, per-class accuracy."""
import json
import os
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmpretrain.registry import METRICS

from sau_mm.datasets.long_tail import (SHOT_GROUPS, check_shot_thresholds,
                                       shot_group)


@METRICS.register_module()
class LongTailAccuracy(BaseMetric):
    """Accuracy of a long-tailed classifier on a (balanced) test set.

    Returns ``top1``, ``top5`` (percent), ``many``/``medium``/``few`` (mean
    top-1 over the test samples of classes with > 100, 20..100, < 20 REAL
    training images by default; ``shot_thresholds=dict(many_above=M,
    few_below=F)``, or, when None, the training dataset's, handed over by
    ClassCountsHook; a group without a class (or without a test image) is
    the text 'no class in this group' (or 'no test image in this group')
    instead of a bare nan) and ``top1_best`` (best top-1 of all evaluations
    so far, since papers report the best epoch; the last epoch is ``top1``).
    Per-class accuracy is written to ``<out_dir>/per_class_accuracy_<n>.json``.

    The training counts come from ``train_class_counts`` or, usually, from
    :class:`~sau_mm.engine.hooks.ClassCountsHook`, which also sets ``out_dir``
    to the run's log directory.
    """
    default_prefix = 'lt'

    def __init__(self,
                 train_class_counts: Optional[Sequence[int]] = None,
                 topk: Sequence[int] = (1, 5),
                 out_dir: Optional[str] = None,
                 shot_thresholds: Optional[dict] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self._own_thresholds = shot_thresholds is not None
        self.shot_thresholds = check_shot_thresholds(shot_thresholds)
        self.train_class_counts = train_class_counts
        self.topk = tuple(topk)
        self.out_dir = out_dir
        self.best_top1 = None
        self.num_evaluations = 0

    def state_dict(self) -> dict:
        """The state kept across evaluations (the best top-1 so far), saved
        in checkpoints by AtomicCheckpointHook so that it survives
        ``--resume``."""
        return dict(best_top1=self.best_top1,
                    num_evaluations=self.num_evaluations)

    def load_state_dict(self, state: dict) -> None:
        self.best_top1 = state.get('best_top1')
        self.num_evaluations = state.get('num_evaluations', 0)

    def set_train_class_counts(self, real_counts: Sequence[int]) -> None:
        """Shot groups follow the REAL training counts."""
        self.train_class_counts = list(real_counts)

    def set_shot_thresholds(self, thresholds: dict) -> None:
        """The training dataset's shot thresholds (ClassCountsHook): set once,
        on ``train_dataloader.dataset.shot_thresholds``; a metric given other
        thresholds of its own is an error (the log's groups would not be the
        metric's)."""
        thresholds = check_shot_thresholds(thresholds)
        if self._own_thresholds and thresholds != self.shot_thresholds:
            raise ValueError(
                f'LongTailAccuracy shot_thresholds={self.shot_thresholds} '
                f'differ from the training dataset\'s {thresholds}. Set them '
                'once, as train_dataloader.dataset.shot_thresholds (the '
                'metric follows it), and drop them from the evaluator.')
        self.shot_thresholds = thresholds

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append(
                dict(score=sample['pred_score'].cpu(),
                     label=int(sample['gt_label'].reshape(-1)[0])))

    def compute_metrics(self, results: List[dict]) -> dict:
        scores = torch.stack([r['score'] for r in results])
        labels = torch.tensor([r['label'] for r in results])
        num_classes = scores.size(1)
        ranked = scores.topk(min(max(self.topk), num_classes), dim=1).indices
        hits = ranked == labels[:, None]
        metrics = {}
        for k in self.topk:
            metrics[f'top{k}'] = hits[:, :k].any(1).float().mean().item() * 100
        correct = hits[:, 0].numpy()
        labels_np = labels.numpy()
        per_class = [
            float(correct[labels_np == c].mean() * 100)
            if (labels_np == c).any() else float('nan')
            for c in range(num_classes)
        ]
        if self.train_class_counts is not None:
            if len(self.train_class_counts) != num_classes:
                raise ValueError(
                    f'train_class_counts has {len(self.train_class_counts)} '
                    f'classes, the predictions {num_classes}.')
            groups = np.array([shot_group(n, **self.shot_thresholds)
                               for n in self.train_class_counts])
            sample_groups = groups[labels_np]
            for g in SHOT_GROUPS:
                mask = sample_groups == g
                # An empty group is a text in the log ("lt/few: no class in
                # this group"), never a bare nan; it is not a scalar, so it
                # is not plotted either.
                metrics[g] = float(correct[mask].mean() * 100) if \
                    mask.any() else 'no class in this group' if not \
                    (groups == g).any() else 'no test image in this group'
        else:
            print_log('LongTailAccuracy: no training class counts, so no '
                      'many/medium/few figures (add ClassCountsHook).',
                      logger='current', level=30)
        self.best_top1 = metrics['top1'] if self.best_top1 is None else max(
            self.best_top1, metrics['top1'])
        metrics['top1_best'] = self.best_top1
        self.num_evaluations += 1
        self._save_per_class(per_class)
        return metrics

    def _save_per_class(self, per_class: List[float]) -> None:
        if self.out_dir is None:
            return
        os.makedirs(self.out_dir, exist_ok=True)
        path = osp.join(self.out_dir,
                        f'per_class_accuracy_{self.num_evaluations}.json')
        with open(path, 'w') as f:
            json.dump(dict(per_class_top1=per_class,
                           train_class_counts=self.train_class_counts), f)
