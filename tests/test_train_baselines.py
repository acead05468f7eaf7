"""Baselines through MMEngine's runner on generated CIFAR-10 pickles."""
import glob
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.registry import MODELS

from tests.support.training import LossRecorder, small_cfg

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CE = osp.join(ROOT, 'configs/baselines/resnet32_cifar10lt/ce.py')


@pytest.fixture(scope='module')
def cifar10(cifar10_pickles):
    return cifar10_pickles(40, 4)


def final_state(runner):
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def test_ce_lowers_loss_and_reports_long_tail_metrics(cifar10, tmp_path):
    cfg = small_cfg(CE, cifar10, str(tmp_path), epochs=2)
    runner = Runner.from_cfg(cfg)
    recorder = LossRecorder()
    runner.register_hook(recorder)
    runner.train()
    assert recorder.mean('loss', 'last') < recorder.mean('loss', 'first')
    metrics = runner.test()
    assert {'lt/top1', 'lt/top5', 'lt/many', 'lt/medium', 'lt/few',
            'lt/top1_best'} <= set(metrics)
    assert glob.glob(str(tmp_path / '*' / 'per_class_accuracy_*.json'))


def test_resume_continues_identically(cifar10_pickles, tmp_path):
    cifar10 = cifar10_pickles(12, 2)  # the smallest set: only weights compared
    straight = Runner.from_cfg(
        small_cfg(CE, cifar10, str(tmp_path / 'a'), epochs=2))
    straight.train()
    first = Runner.from_cfg(small_cfg(CE, cifar10, str(tmp_path / 'b'),
                                      epochs=1, **{'train_cfg.val_interval':
                                                   5}))
    first.train()
    resumed = Runner.from_cfg(
        small_cfg(CE, cifar10, str(tmp_path / 'b'), epochs=2,
                  resume=True, load_from=str(tmp_path / 'b' /
                                             'epoch_1.pth')))
    resumed.train()
    a, b = final_state(straight), final_state(resumed)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0,
                                   msg=key)


CIFAR_STATS = {
    'cifar10': ((0.49139968, 0.48215827, 0.44653124),
                (0.24703233, 0.24348505, 0.26158768)),
    'cifar100': ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)),
}


@pytest.mark.parametrize('config', sorted(
    glob.glob(osp.join(ROOT, 'configs/baselines/*/*.py')) +
    glob.glob(osp.join(ROOT, 'configs/sau/**/*.py'), recursive=True) +
    glob.glob(osp.join(ROOT, 'configs/diffult/ce_*.py'))))
def test_every_config_loads_and_builds_its_model(config):
    cfg = Config.fromfile(config)
    if 'image_folder' in cfg:  # the tools apply these settings (README)
        from sau_mm.engine.image_folder_settings import \
            apply_image_folder_settings
        cfg.image_folder.num_classes = 10
        apply_image_folder_settings(cfg)
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    model = MODELS.build(model_cfg)
    assert cfg.default_scope == 'mmpretrain'
    head = model.head
    num_classes = cfg.data_preprocessor.num_classes
    assert head.num_classes == num_classes
    dataset = cfg.train_dataloader.dataset
    dataset = dataset.get('dataset', dataset)
    assert dataset.num_classes == num_classes
    # Normalisation of the authors' code
    # (docs/method.md#views-and-normalisation): CIFAR-10 (pickles and JPEG)
    # and CIFAR-100 each have their own statistics.
    cifar10 = dataset.source == 'cifar10' or 'cifar10-jpeg' in \
        dataset.data_root
    if cifar10 or dataset.source == 'cifar100':
        mean, std = CIFAR_STATS['cifar10' if cifar10 else 'cifar100']
        np.testing.assert_allclose(np.array(cfg.data_preprocessor.mean) / 255,
                                   mean, rtol=1e-7)
        np.testing.assert_allclose(np.array(cfg.data_preprocessor.std) / 255,
                                   std, rtol=1e-7)


@pytest.mark.slow
def test_train_tool_with_cfg_options_and_test_tool(cifar10, tmp_path):
    work = str(tmp_path / 'tool')
    common = ['--cfg-options', f'train_dataloader.dataset.data_root={cifar10}',
              f'val_dataloader.dataset.data_root={cifar10}',
              f'test_dataloader.dataset.data_root={cifar10}',
              # workers 0 alone: persistent_workers is turned off for us
              'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
              'test_dataloader.num_workers=0']
    env = dict(os.environ, PYTHONPATH=ROOT)
    cfg_cb = osp.join(ROOT, 'configs/baselines/resnet32_cifar10lt/cb_focal.py')
    train = subprocess.run(
        [sys.executable, 'tools/train.py', cfg_cb, '--work-dir', work] +
        common + ['train_cfg.max_epochs=1', 'train_dataloader.batch_size=64',
                  'train_dataloader.dataset.imbalance_factor=10'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert train.returncode == 0, train.stderr[-3000:]
    assert 'IF=10' in train.stdout + train.stderr
    assert ('num_workers=0: persistent_workers set to False on '
            'train_dataloader, val_dataloader, test_dataloader') in \
        train.stdout + train.stderr
    test = subprocess.run(
        [sys.executable, 'tools/test.py', cfg_cb, f'{work}/epoch_1.pth',
         '--work-dir', work] + common +
        ['train_dataloader.dataset.imbalance_factor=10'], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300)
    assert test.returncode == 0, test.stderr[-3000:]
    assert 'lt/few' in test.stdout + test.stderr
