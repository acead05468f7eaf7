"""LabelCorrectionHook: report what SAU's KNN label correction flagged."""
import json
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from .runner_access import find_long_tail_dataset


@HOOKS.register_module()
class LabelCorrectionHook(Hook):
    """After each training epoch, take the model's label-correction
    statistics (``model.pop_label_correction_stats()``, summed over ranks)
    and

    - log the fraction of synthetic samples flagged as noise, overall and per
      class (``noise_frac/all`` scalar and a per-class log line);
    - write ``<work_dir>/noise_flags/epoch_<e>.json`` with the flagged
      sample indices and their image paths, and per-class counts.

    A sample drawn k times in an epoch counts k times in the fractions.
    """
    priority = 'BELOW_NORMAL'

    def after_train_epoch(self, runner) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        stats = model.pop_label_correction_stats()
        seen, flagged = stats['seen'], stats['flagged']
        dataset = find_long_tail_dataset(runner)
        classes = dataset.metainfo['classes']
        total = max(sum(seen), 1)
        runner.message_hub.update_scalar('train/noise_frac/all',
                                         sum(flagged) / total)
        per_class = {
            name: (f / s if s else 0.0)
            for name, s, f in zip(classes, seen, flagged)
        }
        runner.logger.info(
            f'Label correction, epoch {runner.epoch + 1}: '
            f'{sum(flagged)}/{sum(seen)} synthetic samples flagged as noise '
            f'({sum(flagged) / total:.2%}); per class: ' + ', '.join(
                f'{name} {frac:.1%}' for name, frac in per_class.items()))
        if not is_main_process():
            return
        indices = sorted(set(stats['flagged_indices']))
        record = dict(
            epoch=runner.epoch + 1,
            seen_per_class=dict(zip(classes, seen)),
            flagged_per_class=dict(zip(classes, flagged)),
            flagged_samples=[
                dict(index=i, path=dataset.get_data_info(i).get('img_path'))
                for i in indices
            ])
        out_dir = osp.join(runner.work_dir, 'noise_flags')
        os.makedirs(out_dir, exist_ok=True)
        with open(osp.join(out_dir, f'epoch_{runner.epoch + 1}.json'),
                  'w') as f:
            json.dump(record, f, indent=1)
