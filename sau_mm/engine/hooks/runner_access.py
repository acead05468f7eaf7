"""How hooks reach the model and the training set: one place for both."""
from mmengine.model import is_model_wrapper
from mmpretrain.registry import DATASETS


def unwrap_model(runner):
    """The model behind DDP (or any MMEngine model wrapper)."""
    model = runner.model
    return model.module if is_model_wrapper(model) else model


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
                'This hook needs a LongTailSyntheticDataset as the training '
                f'dataset, got {type(dataset).__name__}.')
        dataset = dataset.dataset
    return dataset
