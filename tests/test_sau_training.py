"""SAU end to end on generated CIFAR-10 pickles + a generated synthetic set."""
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from sau_mm.datasets.transforms import CONTRASTIVE_VIEWS
from sau_mm.engine.hooks.runner_access import real_image_loader

from tests.support.data import make_synthetic_manifest
from tests.support.training import (SAU_DATASET, TINY_SAU, LossRecorder,
                                    small_cfg)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SAU = osp.join(ROOT, 'configs/sau/resnet32_cifar10lt.py')


@pytest.fixture(scope='module')
def data(sau_data):
    return sau_data


def sau_cfg(data, work_dir, epochs=2, **overrides):
    root, manifest = data
    return small_cfg(SAU, root, work_dir, epochs=epochs,
                     dataset_key=SAU_DATASET,
                     **{f'{SAU_DATASET}.synthetic_manifest': manifest,
                        **TINY_SAU, **overrides})


class PrototypeSpy(Hook):
    """Records (epoch, iteration) at each prototype update."""
    priority = 'LOWEST'

    def __init__(self):
        self.calls = []

    def before_train_epoch(self, runner):
        self.calls.append((runner.epoch, runner.iter,
                           runner.model.prototypes.get().clone()))


@pytest.fixture(scope='module')
def straight_run(data, tmp_path_factory):
    """3 epochs of tiny SAU: (runner, loss recorder, prototype spy)."""
    work_dir = str(tmp_path_factory.mktemp('sau_straight'))
    runner = Runner.from_cfg(sau_cfg(data, work_dir, epochs=3))
    recorder, spy = LossRecorder(), PrototypeSpy()
    runner.register_hook(recorder)
    runner.register_hook(spy)
    runner.train()
    return runner, recorder, spy


def test_sau_lowers_loss_logs_every_term_and_updates_prototypes(
        straight_run):
    runner, recorder, spy = straight_run
    assert {'loss_mix', 'loss_cut', 'loss_sc', 'noise_frac'} <= set(
        recorder.outputs[0])
    assert recorder.mean('loss', 'last') < recorder.mean('loss', 'first')
    iters_per_epoch = len(runner.train_dataloader)
    assert [(e, i) for e, i, _ in spy.calls] == [
        (e, e * iters_per_epoch) for e in range(3)]
    assert not torch.equal(spy.calls[0][2], spy.calls[-1][2])
    assert osp.isfile(osp.join(runner.work_dir, 'noise_flags',
                               'epoch_3.json'))


def test_sau_resume_continues_identically(data, straight_run, tmp_path):
    """The straight run's epoch-2 checkpoint resumed in a fresh work dir
    ends with the straight run's weights, bit for bit."""
    straight = straight_run[0]
    resumed = Runner.from_cfg(
        sau_cfg(data, str(tmp_path), epochs=3, resume=True,
                load_from=osp.join(straight.work_dir, 'epoch_2.pth')))
    resumed.train()
    a = straight.model.state_dict()
    b = resumed.model.state_dict()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


def test_v1_label_correction_trains_and_flags(data, tmp_path):
    """model.correction_view='v1' end to end: one epoch, prototypes of
    v2, v3 and v1, the flags written, a finite L_SC."""
    runner = Runner.from_cfg(sau_cfg(data, str(tmp_path), epochs=1, **{
        'model.correction_view': 'v1'}))
    recorder = LossRecorder()
    runner.register_hook(recorder)
    runner.train()
    assert runner.model.prototypes.get().shape[0] == 3
    assert all(torch.isfinite(torch.tensor(o['loss_sc']))
               for o in recorder.outputs)
    assert osp.isfile(osp.join(runner.work_dir, 'noise_flags',
                               'epoch_1.json'))


def test_prototypes_are_means_of_the_real_long_tailed_subset(data, tmp_path):
    # Deterministic views (v2 flipped, v3 as is), so a reference can match.
    flip = dict(type='RandomFlip', prob=1.0, direction='horizontal')
    pipeline = [dict(type='LoadImage'),
                dict(type='SAUViews', v1=[], v2=[flip], v3=[]),
                dict(type='PackInputs')]
    runner = Runner.from_cfg(
        sau_cfg(data, str(tmp_path),
                **{f'{SAU_DATASET}.pipeline': pipeline}))
    runner.train_loop  # builds the dataloader
    model = runner.model
    dataset = runner.train_dataloader.dataset.dataset
    assert len(dataset) > dataset.num_real  # synthetic samples exist
    model.update_prototypes(real_image_loader(runner, batch_size=7))
    protos = model.prototypes.get()
    # Reference: embed each real image's two views one by one; the plain
    # mean (authors' code), not normalised.
    model.eval()
    sums = torch.zeros_like(protos)
    counts = torch.zeros(10)
    with torch.no_grad():
        for i in dataset.real_indices:
            item = dataset[int(i)]
            label = int(item['data_samples'].gt_label)
            for v, view in enumerate(CONTRASTIVE_VIEWS):
                x = model.data_preprocessor(
                    dict(inputs=item['inputs'][view][None]), False)['inputs']
                sums[v, label] += model.project(x)[0]
            counts[label] += 1
    assert counts.tolist() == dataset.real_class_counts
    torch.testing.assert_close(protos, sums / counts[None, :, None],
                               atol=1e-5, rtol=1e-5)


def test_imagenet_lt_sau_pipeline_on_split_file_data(tmp_path):
    from tests.support.data import make_split_file
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import DATASETS
    init_default_scope('mmpretrain')
    make_split_file(str(tmp_path), [3, 2, 1], name='ImageNet_LT_train.txt')
    manifest = make_synthetic_manifest(str(tmp_path / 'syn'), [0, 1, 2])
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/sau/resnet50_imagenetlt.py'))
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.dataset.update(data_root=str(tmp_path), num_classes=3,
                          synthetic_manifest=manifest)
    dataset = DATASETS.build(ds_cfg)
    assert len(dataset) == 9
    item = dataset[(8, 8)]  # (index, partner index), as MixPartnerSampler yields
    assert [tuple(v.shape) for v in item['inputs']] == [(3, 224, 224)] * 4
    assert item['data_samples'].is_synthetic is True
