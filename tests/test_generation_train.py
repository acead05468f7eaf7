"""End to end: every stage of the generate_synthetic command line
(sau_mm.generation.text2image.cli) from local tiny models, then CE training
on real + synthetic through tools/train.py."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from sau_mm.datasets.manifest import read_manifest
from sau_mm.generation.text2image import cli

from tests.support import ROOT
from tests.support.data import make_image_folder
from tests.support.generation import one_torch_thread

CONFIG = osp.join(
    ROOT, 'configs/baselines/resnet32_cifar10jpeg_lt/ce_real_synthetic.py')


@pytest.mark.slow
def test_stages_then_train_on_the_manifest(tiny_sd_pipeline, tiny_clip,
                                           tmp_path):
    data = make_image_folder(str(tmp_path / 'data'), [20] * 10)
    make_image_folder(data, [2] * 10, split='test')
    out = str(tmp_path / 'synthetic')
    with one_torch_thread():
        pipe_dir = tiny_sd_pipeline
        clip_config, clip_ckpt, clip_name = tiny_clip
        for argv in (
                ['plan', CONFIG, '--cfg-options',
                 f'train_dataloader.dataset.data_root={data}',
                 'train_dataloader.dataset.imbalance_factor=4'],
                ['prompts'],
                ['generate', '--pipeline-dir', pipe_dir, '--steps', '2',
                 '--batch-size', '16'],
                ['filter', '--clip-model', clip_name, '--clip-checkpoint',
                 clip_ckpt, '--clip-config', clip_config],
                ['inspect', '--classes', '9']):
            assert cli.main(argv + ['--out-dir', out]) == 0, argv
    manifest = osp.join(out, 'manifest.jsonl')
    real = [int(20 * 4**(-c / 9)) for c in range(10)]
    assert len(read_manifest(manifest)) == 200 - sum(real)
    assert osp.isfile(osp.join(out, 'inspect', '0009_class_9.png'))

    work = str(tmp_path / 'work')
    options = [f'{split}_dataloader.{key}'
               for split in ('train', 'val', 'test')
               for key in (f'dataset.data_root={data}', 'num_workers=0',
                           'persistent_workers=False')]
    train = subprocess.run(
        [sys.executable, 'tools/train.py', CONFIG, '--work-dir', work,
         '--cfg-options', *options,
         'train_dataloader.dataset.imbalance_factor=4',
         f'train_dataloader.dataset.synthetic_manifest={manifest}',
         'train_dataloader.batch_size=50', 'train_cfg.max_epochs=1'],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1'),
        capture_output=True, text=True, timeout=300)
    log = train.stdout + train.stderr
    assert train.returncode == 0, log[-3000:]
    assert f'{sum(real)} real + {200 - sum(real)} synthetic images' in log
    assert 'Epoch(train) [1][4/4]' in log
    assert osp.isfile(osp.join(work, 'epoch_1.pth'))
