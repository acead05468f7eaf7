"""A trained classifier of this toolkit as a feature encoder.

Features f = the last output of ``model.extract_feat`` (backbone + neck),
average-pooled over space when it is still a feature map, flattened;
logits = ``model.head`` of the same outputs. Images go through the
classifier config's test (else val) pipeline: no augmentation.
"""
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmpretrain.apis import init_model
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from sau_mm.engine.image_folder_settings import apply_image_folder_settings


def load_config(config: Union[str, Config],
                cfg_options: Optional[dict] = None) -> Config:
    """A config with ``cfg_options`` merged and the image-folder settings
    applied (as tools/train.py does)."""
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    apply_image_folder_settings(cfg, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    return cfg


def load_classifier(config: Union[str, Config], checkpoint: str,
                    cfg_options: Optional[dict] = None,
                    device: str = 'cpu'):
    """(model in eval mode, its config)."""
    cfg = load_config(config, cfg_options)
    model = init_model(cfg, checkpoint, device=device)
    model.eval()
    return model, cfg


def eval_pipeline(cfg: Config) -> Sequence[dict]:
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader')
    if not loader:
        raise ValueError(f'{cfg.filename}: no test_dataloader or '
                         'val_dataloader, whose pipeline the encoder uses.')
    return loader['dataset']['pipeline']


class ImageFiles(Dataset):
    """Image files with labels through a pipeline; ``resize_to`` (height,
    width) has LoadImage resize every image to the real images' size, as
    LongTailSyntheticDataset does for synthetic images."""

    def __init__(self, paths: Sequence[str], labels: Sequence[int],
                 pipeline: Sequence[dict],
                 resize_to: Optional[Tuple[int, int]] = None):
        self.paths, self.labels = list(paths), list(labels)
        self.pipeline = Compose(pipeline)
        self.resize_to = resize_to

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        info = dict(img_path=self.paths[i], gt_label=self.labels[i])
        if self.resize_to is not None:
            info['resize_to'] = tuple(self.resize_to)
        return self.pipeline(info)


@torch.no_grad()
def encode(model, dataset, batch_size: int = 256, num_workers: int = 0,
           desc: str = 'encode') -> Tuple[np.ndarray, np.ndarray]:
    """(features (N, D), logits (N, C)) of every sample of ``dataset``
    (module docstring), in dataset order, with a progress bar."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False,
                        num_workers=num_workers, collate_fn=pseudo_collate)
    feats, logits = [], []
    with tqdm(total=len(dataset), desc=desc, unit='img') as bar:
        for batch in loader:
            inputs = model.data_preprocessor(batch, False)['inputs']
            out = model.extract_feat(inputs)
            out = out if isinstance(out, tuple) else (out, )
            last = out[-1]
            if last.dim() == 4:
                last = last.mean((2, 3))
            feats.append(last.flatten(1).float().cpu())
            logits.append(model.head(out).float().cpu())
            bar.update(len(batch['inputs']))
    if not feats:
        return np.zeros((0, 0)), np.zeros((0, 0))
    return torch.cat(feats).numpy(), torch.cat(logits).numpy()
