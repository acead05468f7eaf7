"""ClassCountsHook: hand the training set's class counts to losses and metrics."""
from mmengine.hooks import Hook
from mmpretrain.registry import DATASETS, HOOKS


def find_long_tail_dataset(runner):
    """The LongTailSyntheticDataset behind the train dataloader (built or
    not), unwrapping dataset wrappers (anything with a ``.dataset``)."""
    loader = runner.train_dataloader
    if isinstance(loader, dict):
        dataset = DATASETS.build(loader['dataset'])
    else:
        dataset = loader.dataset
    while not hasattr(dataset, 'real_class_counts'):
        if not hasattr(dataset, 'dataset'):
            raise TypeError(
                'ClassCountsHook needs a LongTailSyntheticDataset as the '
                f'training dataset, got {type(dataset).__name__}.')
        dataset = dataset.dataset
    return dataset


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
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        for module in model.modules():
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
