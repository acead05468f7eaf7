"""ClassCountsHook: hand the training set's class counts to losses and metrics."""
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from .runner_access import find_long_tail_dataset, unwrap_model


@HOOKS.register_module()
class ClassCountsHook(Hook):
    """Before the run, read the per-class counts of the training set and give
    them to

    - every model submodule with ``set_class_counts(counts)`` (re-balancing
      losses: counts of the training distribution, real + synthetic);
    - every evaluator metric with ``set_train_class_counts(real_counts)``
      (many/medium/few groups follow the REAL counts); such a metric also
      gets ``out_dir = runner.log_dir`` when it has none.
    """
    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        dataset = find_long_tail_dataset(runner)
        for module in unwrap_model(runner).modules():
            if hasattr(module, 'set_class_counts'):
                module.set_class_counts(dataset.class_counts)
        for name in ('val_evaluator', 'test_evaluator'):
            loop = getattr(runner, f'_{name.split("_")[0]}_loop', None)
            evaluator = getattr(loop, 'evaluator', None)
            for metric in getattr(evaluator, 'metrics', []):
                if hasattr(metric, 'set_train_class_counts'):
                    metric.set_train_class_counts(dataset.real_class_counts)
                    if getattr(metric, 'out_dir', None) is None:
                        metric.out_dir = runner.log_dir
