"""Shared command-line handling of sau_mm.cli.train, sau_mm.cli.test and
tools/benchmark.py: the MMPretrain flags, applied to an MMEngine config
(the pipeline, sau_mm.pipeline, builds the same config to check a finished
run against)."""
import argparse
import logging
import os
import os.path as osp
from typing import List, Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from sau_mm.datasets.lt_synthetic_dataset import check_options

from .hooks.run_info_hook import RUN_INFO, config_name
from .image_folder_settings import apply_image_folder_settings


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value (e.g. '
        'train_dataloader.dataset.imbalance_factor=50)')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        help='job launcher (pytorch = torchrun)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args) -> Config:
    """Config + CLI: work_dir (CLI > file > ``work_dirs/<config path under
    configs/ without .py>``, e.g. ``work_dirs/baselines/resnet32_cifar10lt/
    ce``; ``work_dirs/<file stem>`` for a config outside ``configs/``),
    --cfg-options, the image-folder settings, the dataset options' names
    checked, the loaders' workers fitted to the machine
    (:func:`fit_dataloaders`), launcher, and the CPU settings for
    distributed runs."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    # image-folder configs: image_folder.{data_root,num_classes,image_size}
    # into every place that uses them (the dumped config shows them)
    apply_image_folder_settings(cfg, args.cfg_options)
    check_dataset_options(cfg.to_dict())
    fit_dataloaders(cfg, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        # unique per config: leaf configs share file names (ce.py)
        cfg.work_dir = osp.join('./work_dirs', config_name(args.config))
    if args.launcher != 'none' and not torch.cuda.is_available():
        # DDP on CPU: gloo, and no device_ids
        # (docs/compat.md#distributed-training-on-cpu).
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        cfg.env_cfg.dist_cfg.backend = 'gloo'
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel',
                                     device_ids=None)
    return cfg


LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def available_cpus() -> int:
    """CPU cores this process may run on (its affinity mask, else the
    machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def fit_dataloaders(cfg: Config, cfg_options: Optional[dict] = None
                    ) -> None:
    """Fit every dataloader's workers to the machine, one log line each:

    - ``num_workers`` from the config file above the cores available to
      each process (:func:`available_cpus` / ``LOCAL_WORLD_SIZE``) is
      lowered to that (more workers than cores only compete for them, and
      torch warns the loader may freeze); a value given with
      ``--cfg-options <loader>.num_workers=N`` is kept as given. The worker
      count decides which worker (and so which augmentation seed) loads a
      batch, so a capped run's augmentations are not those of the
      uncapped one.
    - ``num_workers=0`` with ``persistent_workers=True`` (MMEngine refuses
      that pair): ``persistent_workers`` is set to False.
    """
    per_process = max(1, available_cpus() // int(
        os.environ.get('LOCAL_WORLD_SIZE', '1')))
    capped, unpersisted = {}, []
    for name in LOADERS:
        loader = cfg.get(name)
        if not isinstance(loader, dict):
            continue
        workers = loader.get('num_workers', 0)
        if workers > per_process and \
                f'{name}.num_workers' not in (cfg_options or {}):
            capped[name] = workers
            loader.num_workers = workers = per_process
        if workers == 0 and loader.get('persistent_workers'):
            loader.persistent_workers = False
            unpersisted.append(name)
    if capped:
        asked = ', '.join(f'{k} {v}' for k, v in capped.items())
        print_log(f'Data loading: {per_process} CPU cores for this process, '
                  f'so num_workers={per_process} instead of the config\'s '
                  f'({asked}). The worker count picks each training batch\'s '
                  'augmentation seed: --cfg-options <loader>.num_workers=N '
                  'keeps N (to repeat a run made with N).', logger='current')
    if unpersisted:
        print_log(f'num_workers=0: persistent_workers set to False on '
                  f'{", ".join(unpersisted)} (MMEngine needs workers for '
                  'persistent ones).', logger='current')


def check_dataset_options(node) -> None:
    """Check the keys of every LongTailSyntheticDataset in a config
    (:func:`~sau_mm.datasets.lt_synthetic_dataset.check_options`): a typo
    stops the run here, before the model is built."""
    if isinstance(node, dict):
        if node.get('type') == 'LongTailSyntheticDataset':
            check_options(node)
        for value in node.values():
            check_dataset_options(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            check_dataset_options(value)


def previous_run(work_dir: str) -> List[str]:
    """The files in ``work_dir`` that show a run was there: run_info.json,
    last_checkpoint and checkpoints (``*.pth``), sorted."""
    if not osp.isdir(work_dir):
        return []
    return sorted(f for f in os.listdir(work_dir)
                  if f in (RUN_INFO, 'last_checkpoint') or f.endswith('.pth'))


def warn_fresh_start(work_dir: str) -> None:
    """A warning when a run without --resume starts in a work dir that
    holds a run (MMEngine allows it, and users overwrite on purpose)."""
    found = previous_run(work_dir)
    if not found:
        return
    shown = ', '.join(found[:4]) + (', ...' if len(found) > 4 else '')
    print_log(
        f'{work_dir} already holds a run ({shown}). This start has no '
        '--resume: it trains from scratch there, replacing last_checkpoint '
        'and checkpoints of the same names; run_info.json records it as a '
        'new start. To continue that run, add --resume; to keep it, pick '
        'another --work-dir.', logger='current', level=logging.WARNING)


def train_config(args) -> Config:
    """The config sau_mm.cli.train trains (before --resume):
    :func:`load_config`, then ``--no-validate`` (no validation loop) and
    ``--amp``."""
    cfg = load_config(args)
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.amp:
        enable_amp(cfg)
    return cfg


def enable_amp(cfg: Config) -> None:
    """``--amp``: bfloat16 autocast without loss scaling
    (:class:`~sau_mm.engine.optimizers.BF16AutocastOptimWrapper`), on GPU and
    CPU alike. MMEngine's float16 AMP stays one option away:
    ``--cfg-options optim_wrapper.type=AmpOptimWrapper`` (GPU only)."""
    cfg.optim_wrapper.type = 'BF16AutocastOptimWrapper'
    print_log('--amp: bfloat16 autocast (BF16AutocastOptimWrapper), no loss '
              f'scaling, on {"CUDA" if torch.cuda.is_available() else "CPU"}.',
              logger='current')
    if not torch.cuda.is_available() and not cpu_has_bf16():
        print_log(
            '--amp on a CPU without bfloat16 instructions (capability '
            f'{torch.backends.cpu.get_cpu_capability()}): bf16 is emulated '
            'there, about 10x slower than fp32 for ResNet-32 (measured on an '
            'AVX2 CPU). Drop --amp on this machine.',
            logger='current', level=logging.WARNING)


def cpu_has_bf16() -> bool:
    """Whether this CPU runs bfloat16 convolutions natively (oneDNN's check:
    AVX-512 BF16 / AMX, or Arm BF16)."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
