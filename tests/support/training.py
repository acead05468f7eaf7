"""Shared helpers for tests that run MMEngine's Runner on small data."""
import os
import subprocess
import sys

from mmengine.config import Config
from mmengine.hooks import Hook

# The key of the real long-tailed dataset inside the SAU configs' training
# dataset (a MixPartnerDataset).
SAU_DATASET = 'train_dataloader.dataset.dataset'
# The tiny SAU model of the tests (--cfg-options of configs/sau/*.py): a
# ResNet-32 of width 8 (32 features), a 64-16 projector, batch 16.
TINY_SAU = {
    'model.backbone.base_channels': 8, 'model.head.in_channels': 32,
    'model.projector.in_channels': 32, 'model.projector.hidden_channels': 64,
    'model.projector.out_channels': 16, 'train_dataloader.batch_size': 16,
}


class LossRecorder(Hook):
    """Records every training iteration's outputs (all loss terms)."""
    priority = 'LOWEST'

    def __init__(self):
        self.outputs = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.outputs.append({k: float(v) for k, v in outputs.items()})

    def mean(self, key, part):
        values = [o[key] for o in self.outputs]
        chunk = max(1, len(values) // 3)
        values = values[:chunk] if part == 'first' else values[-chunk:]
        return sum(values) / len(values)


def dataloader_overrides(data_root, prefix='train_dataloader.dataset'):
    """Point every dataloader at data_root, with no worker processes."""
    out = {f'{prefix}.data_root': data_root}
    for split in ('val', 'test'):
        out[f'{split}_dataloader.dataset.data_root'] = data_root
    for split in ('train', 'val', 'test'):
        out[f'{split}_dataloader.num_workers'] = 0
        out[f'{split}_dataloader.persistent_workers'] = False
    return out


def small_cfg(config, data_root, work_dir, epochs=2,
              dataset_key='train_dataloader.dataset', **overrides):
    """A config shrunk for CPU tests: IF 4, batch 32, constant lr."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict({
        'work_dir': work_dir,
        **dataloader_overrides(data_root, dataset_key),
        f'{dataset_key}.imbalance_factor': 4,
        'train_dataloader.batch_size': 32,
        'train_cfg.max_epochs': epochs,
        'train_cfg.val_interval': 1,
        'default_hooks.checkpoint.interval': 1,
        'default_hooks.logger.interval': 1,
        'param_scheduler': [dict(type='ConstantLR', factor=1.0)],
        'optim_wrapper.optimizer.lr': 0.01,
        **overrides,
    })
    return cfg


def dist_train(root, config, work_dir, options, port, nproc=2):
    """tools/dist_train.sh CONFIG nproc on CPU (gloo, one thread each) with
    --cfg-options; returns (return code, stdout + stderr)."""
    env = dict(os.environ, PYTHONPATH=root, PORT=str(port),
               PYTHON=sys.executable, OMP_NUM_THREADS='1')
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh', config, str(nproc), '--work-dir',
         str(work_dir), '--cfg-options'] + list(options),
        cwd=root, env=env, capture_output=True, text=True, timeout=300)
    return result.returncode, result.stdout + result.stderr


def no_worker_options():
    """--cfg-options strings: train and val loaders without workers."""
    return [f'{s}_dataloader.{k}' for s in ('train', 'val')
            for k in ('num_workers=0', 'persistent_workers=False')]
