"""DiffuLT end to end: train the generator (MMEngine's runner, as
tools/train.py), sample the complement (tools/diffult_sample.py), filter it
with a CE classifier of the real data (tools/diffult_filter.py), train CE
with the synthetic-weighted head on the filtered manifest (tools/train.py)."""
import json
import math
import os
import os.path as osp
import subprocess
import sys
from collections import Counter

from mmengine.config import Config
from mmengine.runner import Runner

from sau_mm.datasets.manifest import read_manifest, resolve_path

from tests.support.data import make_image_folder
from tests.support.training import small_cfg

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
REAL = [12, 10, 8, 7, 6, 5, 4, 4, 3, 3]  # [12] * 10 at IF 4, seed 0


def run(args):
    result = subprocess.run(
        [sys.executable] + args, cwd=ROOT, capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=ROOT), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def data_settings(root):
    """Train on the generated folder at IF 4, without worker processes."""
    return {'train_dataloader.dataset.data_root': root,
            'train_dataloader.dataset.imbalance_factor': 4,
            'train_dataloader.num_workers': 0,
            'train_dataloader.persistent_workers': False}


def test_train_sample_filter_and_train_ce_on_the_manifest(tmp_path):
    data = make_image_folder(str(tmp_path / 'data'), [12] * 10)
    make_image_folder(data, [2] * 10, split='test')

    ddpm_work = str(tmp_path / 'ddpm')
    ddpm = Config.fromfile(
        osp.join(ROOT, 'configs/diffult/ddpm_small_cifar10jpeg_lt.py'))
    ddpm.merge_from_dict({
        'work_dir': ddpm_work, **data_settings(data),
        'train_dataloader.batch_size': 8, 'train_cfg.max_iters': 3,
        'model.unet.block_out_channels': (16, 32),
        'model.unet.down_block_types': ('DownBlock2D', 'AttnDownBlock2D'),
        'model.unet.up_block_types': ('AttnUpBlock2D', 'UpBlock2D'),
        'model.unet.norm_num_groups': 4})
    Runner.from_cfg(ddpm).train()  # what tools/train.py runs
    ddpm_cfg = osp.join(ddpm_work, 'ddpm_small_cifar10jpeg_lt.py')

    out = str(tmp_path / 'synthetic')
    run(['tools/diffult_sample.py', ddpm_cfg, osp.join(ddpm_work,
                                                       'iter_3.pth'),
         '--out-dir', out, '--steps', '2', '--oversample', '1.5',
         '--batch-size', '32'])
    records = read_manifest(osp.join(out, 'manifest.jsonl'))
    planned = [math.ceil(1.5 * (12 - n)) for n in REAL]
    assert Counter(r.label for r in records) == {
        c: n for c, n in enumerate(planned) if n}

    cls_work = str(tmp_path / 'ce')
    ce = osp.join(ROOT, 'configs/baselines/resnet32_cifar10jpeg_lt/ce.py')
    Runner.from_cfg(small_cfg(ce, data, cls_work, epochs=1)).train()
    filtered = str(tmp_path / 'filtered' / 'manifest.jsonl')
    run(['tools/diffult_filter.py', osp.join(out, 'manifest.jsonl'),
         osp.join(cls_work, 'ce.py'), osp.join(cls_work, 'epoch_1.pth'),
         '--out', filtered, '--rule', 'centroid', '--quantile', '0.2',
         '--num-workers', '0'])
    with open(str(tmp_path / 'filtered' / 'manifest.report.json')) as f:
        report = json.load(f)
    kept = read_manifest(filtered)
    assert report['sampled'] == len(records) and report['kept'] == len(kept)
    assert [r['real'] for r in report['per_class']] == REAL
    assert all(r['kept'] + r['dropped'] == r['sampled']
               for r in report['per_class'])
    assert osp.isfile(str(tmp_path / 'filtered' / 'manifest.report.log'))
    for c in range(10):  # best first within each class
        scores = [r.score for r in kept if r.label == c]
        assert scores == sorted(scores, reverse=True)
    assert all(osp.isfile(resolve_path(filtered, r)) for r in kept)

    log = run(['tools/train.py',
               'configs/diffult/ce_resnet32_cifar10jpeg_lt_diffult.py',
               '--work-dir', str(tmp_path / 'ce_diffult'), '--no-validate',
               '--cfg-options'] + [
               f'{k}={v}' for k, v in data_settings(data).items()] + [
               f'train_dataloader.dataset.synthetic_manifest={filtered}',
               'train_dataloader.batch_size=32', 'train_cfg.max_epochs=1'])
    synthetic = sum(min(r['kept'], r['needed'])
                    for r in report['per_class'])
    assert f'{sum(REAL)} real + {synthetic} synthetic images' in log
    assert 'loss:' in log
