"""PrototypeUpdateHook: SAU's per-epoch class prototypes (paper Eq. 10)."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.dataset import default_collate
from mmengine.dist import all_reduce, get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS
from torch.utils.data import DataLoader, Subset

from .class_counts_hook import find_long_tail_dataset


def unwrap_model(runner):
    return runner.model.module if is_model_wrapper(runner.model) \
        else runner.model


@HOOKS.register_module()
class PrototypeUpdateHook(Hook):
    """At the start of every training epoch, for each contrastive view v
    (v2, v3 of the training pipeline):

        mu_c^v = normalize( mean_{i real, y_i = c} z_i^v ),  z = normalize(phi(F(x)))

    over exactly the REAL long-tailed training images (the subset that is
    trained on), the model in eval mode, no gradients; then
    ``model.set_prototypes`` receives (2, C, D). Under DDP each rank embeds
    a shard and the sums are all-reduced, so every rank gets the same
    prototypes.

    Args:
        view_indices: positions of the contrastive views in the pipeline's
            view list ([v1, v2, v3] -> (1, 2)).
        batch_size: of the embedding pass.
        num_workers: loader workers of the embedding pass (it augments
            every real image twice); None: those of the training loader.
    """
    priority = 'ABOVE_NORMAL'

    def __init__(self, view_indices=(1, 2), batch_size: int = 256,
                 num_workers: Optional[int] = None):
        self.view_indices = tuple(view_indices)
        self.batch_size = batch_size
        self.num_workers = num_workers

    @torch.no_grad()
    def compute_prototypes(self, model, dataset,
                           num_workers: int = 0) -> torch.Tensor:
        rank, world_size = get_dist_info()
        indices = dataset.real_indices[rank::world_size].tolist()
        loader = DataLoader(Subset(dataset, indices),
                            batch_size=self.batch_size,
                            num_workers=num_workers,
                            collate_fn=default_collate)
        num_classes = len(dataset.real_class_counts)
        device = model.prototypes.device
        sums = torch.zeros(len(self.view_indices), num_classes,
                           model.prototypes.size(-1), device=device)
        counts = torch.zeros(num_classes, device=device)
        was_training = model.training
        model.eval()
        for batch in loader:
            data = model.data_preprocessor(batch, False)
            labels = torch.cat(
                [s.gt_label for s in data['data_samples']]).to(device)
            for v, view in enumerate(self.view_indices):
                sums[v].index_add_(0, labels, model.project(data['inputs'][view]))
            counts += torch.bincount(labels, minlength=num_classes)
        model.train(was_training)
        all_reduce(sums)
        all_reduce(counts)
        if (counts == 0).any():
            missing = torch.nonzero(counts == 0).flatten().tolist()
            raise ValueError(f'Classes {missing} have no real training '
                             'image, so they have no prototype.')
        return F.normalize(sums / counts[None, :, None], dim=-1)

    def before_train_epoch(self, runner) -> None:
        model = unwrap_model(runner)
        dataset = find_long_tail_dataset(runner)
        num_workers = self.num_workers
        if num_workers is None:
            num_workers = runner.train_dataloader.num_workers
        model.set_prototypes(
            self.compute_prototypes(model, dataset, num_workers))
