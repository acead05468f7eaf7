"""How hooks reach the training set: one place for it."""
from typing import Optional

from mmengine.dataset import default_collate
from mmengine.dist import get_dist_info
from mmpretrain.registry import DATASETS
from torch.utils.data import DataLoader, Subset

from sau_mm.datasets.wrappers import inner_dataset


def find_long_tail_dataset(runner):
    """The LongTailSyntheticDataset behind the train dataloader (built or
    not), unwrapping dataset wrappers (anything with a ``.dataset``)."""
    loader = runner.train_dataloader
    if isinstance(loader, dict):
        dataset = DATASETS.build(loader['dataset'])
    else:
        dataset = loader.dataset
    found = inner_dataset(dataset)
    if found is None:
        raise TypeError(
            'This hook needs a LongTailSyntheticDataset as the training '
            f'dataset, got {type(dataset).__name__}.')
    return found


def real_image_loader(runner, batch_size: int,
                      num_workers: Optional[int] = None) -> DataLoader:
    """A loader over exactly the REAL long-tailed training images (never the
    synthetic ones), through the training pipeline, in dataset order; under
    DDP this rank's shard ``real_indices[rank::world_size]``. ``num_workers``
    None: the training loader's."""
    dataset = find_long_tail_dataset(runner)
    rank, world_size = get_dist_info()
    indices = dataset.real_indices[rank::world_size].tolist()
    if num_workers is None:
        num_workers = runner.train_dataloader.num_workers
    return DataLoader(Subset(dataset, indices), batch_size=batch_size,
                      num_workers=num_workers, collate_fn=default_collate)
