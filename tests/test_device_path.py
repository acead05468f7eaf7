"""The device data path: index-only loaders, decoded images on the device,
views drawn there (configs/*_device.py), bf16 autocast."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpretrain.registry import DATASETS, MODELS, OPTIM_WRAPPERS

from sau_mm.datasets.transforms import SAUView
from sau_mm.datasets.transforms.loading import LoadImage
from sau_mm.engine.runner_setup import enable_amp
from sau_mm.models.utils.batch_views import (BatchCIFAR10AutoAugment,
                                             BatchCutout, BatchRandomCropFlip,
                                             BatchSimAugment)

from tests.support.training import (SAU_DATASET, TINY_SAU, LossRecorder,
                                    dist_train, no_worker_options, small_cfg)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CE_CPU = osp.join(ROOT, 'configs/baselines/resnet32_cifar10lt/ce.py')
CE_DEVICE = osp.join(ROOT, 'configs/baselines/resnet32_cifar10lt/ce_device.py')
SAU_DEVICE = osp.join(ROOT, 'configs/sau/resnet32_cifar10lt_device.py')
MEAN = [125.3069184, 122.95035885, 113.8654662]
STD = [62.99324415, 62.08868775, 66.7048584]


@pytest.fixture(scope='module')
def data(sau_data, tmp_path_factory):
    """The tiny SAU data and this module's decoded-image cache folder."""
    return (*sau_data, str(tmp_path_factory.mktemp('device') / 'cache'))


def ce_cfg(data, config, work_dir, epochs=2, **overrides):
    root, _, cache = data
    return small_cfg(config, root, work_dir, epochs=epochs,
                     decoded_cache_dir=cache, **overrides)


def sau_cfg(data, work_dir, epochs=2, **overrides):
    root, manifest, cache = data
    return small_cfg(SAU_DEVICE, root, work_dir, epochs=epochs,
                     dataset_key=SAU_DATASET, decoded_cache_dir=cache,
                     **{f'{SAU_DATASET}.synthetic_manifest': manifest,
                        **TINY_SAU, **overrides})


def preprocessor(views, partner_view=None, **kw):
    return MODELS.build(dict(type='DeviceViewsDataPreprocessor', views=views,
                             partner_view=partner_view, mean=MEAN, std=STD,
                             to_rgb=False, **kw))


CROP_FLIP = [dict(type='BatchRandomCropFlip', crop_size=32, padding=4,
                  prob=0.5, img_size=32)]


# ------------------------------------------------------------ the data side
def test_index_items_and_partner_fields_match_the_cpu_path(data):
    init_default_scope('mmpretrain')
    cpu = Config.fromfile(osp.join(ROOT, 'configs/sau/resnet32_cifar10lt.py'))
    dev = Config.fromfile(SAU_DEVICE)
    root, manifest, _ = data
    datasets = []
    for cfg in (cpu, dev):
        ds = cfg.train_dataloader.dataset
        ds.dataset.update(data_root=root, synthetic_manifest=manifest,
                          imbalance_factor=4)
        datasets.append(DATASETS.build(ds))
    pairs = [(0, len(datasets[0]) - 1), (5, 2), (len(datasets[0]) - 1, 0)]
    for pair in pairs:
        a, b = datasets[0][pair], datasets[1][pair]
        assert torch.equal(b['inputs'], torch.tensor(pair))
        assert len(a['inputs']) == SAUView.PARTNER + 1
        for key in ('gt_label', 'partner_label', 'is_synthetic',
                    'partner_is_synthetic', 'sample_idx'):
            va, vb = a['data_samples'].get(key), b['data_samples'].get(key)
            assert (torch.equal(va, vb) if isinstance(va, torch.Tensor)
                    else va == vb), key
    # a synthetic partner is flagged as such
    last = datasets[1][(0, len(datasets[1]) - 1)]['data_samples']
    assert last.partner_is_synthetic and not last.is_synthetic


def test_preprocessor_draws_the_configured_ops_with_its_seeded_generator():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    pre = preprocessor([CROP_FLIP])
    pre.set_decoded_images(images)
    idx = torch.tensor([3, 3, 17, 0, 9])
    pre.reseed(7, 1, 42, 0)
    out = pre(dict(inputs=idx, data_samples=None), True)['inputs']
    # reference: the same op, a generator seeded the same way
    pre.reseed(7, 1, 42, 0)
    gen = pre._generator
    ref = BatchRandomCropFlip(32, 4, 0.5, 32)(
        torch.from_numpy(images)[idx].permute(0, 3, 1, 2), gen).float()
    ref = (ref - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(
        STD).view(1, 3, 1, 1)
    torch.testing.assert_close(out, ref, rtol=0, atol=0)
    # same keys, same draws; other keys, other draws
    pre.reseed(7, 1, 42, 0)
    again = pre(dict(inputs=idx, data_samples=None), True)['inputs']
    pre.reseed(7, 1, 43, 0)
    other = pre(dict(inputs=idx, data_samples=None), True)['inputs']
    assert torch.equal(out, again) and not torch.equal(out, other)


def test_sau_pairs_give_four_views_in_order():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (10, 32, 32, 3), dtype=np.uint8)
    cfg = Config.fromfile(SAU_DEVICE)
    pre = preprocessor(cfg.data_preprocessor.views,
                       cfg.data_preprocessor.partner_view)
    pre.set_decoded_images(images)
    pairs = torch.tensor([[0, 9], [4, 4], [7, 1]])
    pre.reseed(0)
    views = pre.draw_views(pairs)
    assert len(views) == SAUView.PARTNER + 1
    pre.reseed(0)
    gen = pre._generator
    x = torch.from_numpy(images)
    main, partner = x[pairs[:, 0]].permute(0, 3, 1, 2), x[pairs[:, 1]].permute(
        0, 3, 1, 2)
    v1 = BatchRandomCropFlip(32, 4, 0.5, 32)
    expected = [
        v1(main, gen),
        BatchCutout(1, 16, 32)(BatchCIFAR10AutoAugment()(v1(main, gen), gen),
                               gen),
        BatchSimAugment(32, img_size=32)(main, gen),
        v1(partner, gen),
    ]
    for got, want in zip(views, expected):
        assert torch.equal(got, want)


def test_views_have_the_cpu_pipelines_pixel_statistics(data, tmp_path):
    """Whole normalised batches of the CE config, device path vs CPU path,
    over the same images: per-channel mean and std agree."""
    stats = []
    for config in (CE_CPU, CE_DEVICE):
        runner = Runner.from_cfg(ce_cfg(data, config, str(tmp_path)))
        runner.call_hook('before_train')  # decodes for the device path
        model, values = runner.model, []
        for epoch in range(6):
            runner.train_loop._epoch = epoch
            runner.call_hook('before_train_epoch')
            for batch in runner.train_dataloader:
                values.append(model.data_preprocessor(batch, True)['inputs'])
        x = torch.cat(values)
        stats.append(torch.stack([x.mean((0, 2, 3)), x.std((0, 2, 3)),
                                  (x == x.amin()).float().mean((0, 2, 3))]))
    torch.testing.assert_close(stats[1], stats[0], atol=0.03, rtol=0.03)


# -------------------------------------------------------------- training
def test_ce_device_path_lowers_loss_and_resumes_exactly(data, tmp_path,
                                                        monkeypatch):
    straight = Runner.from_cfg(ce_cfg(data, CE_DEVICE, str(tmp_path / 'a'),
                                      epochs=4))
    recorder = LossRecorder()
    straight.register_hook(recorder)
    loads, per_epoch = [], []
    original = LoadImage.transform

    def counting(self, results):
        loads.append(1)
        return original(self, results)

    class EpochLoads(Hook):  # images loaded inside each training epoch
        def before_train_epoch(self, runner):
            self.start = len(loads)

        def after_train_epoch(self, runner):
            per_epoch.append(len(loads) - self.start)

    monkeypatch.setattr(LoadImage, 'transform', counting)
    straight.register_hook(EpochLoads())
    straight.train()
    assert straight.model.data_preprocessor.num_images == len(
        straight.train_dataloader.dataset)
    assert per_epoch == [0] * 4  # training itself loads no image
    assert recorder.mean('loss', 'last') < recorder.mean('loss', 'first')
    monkeypatch.setattr(LoadImage, 'transform', original)

    # the straight run's epoch-3 checkpoint, resumed in a fresh work dir
    resumed = Runner.from_cfg(ce_cfg(
        data, CE_DEVICE, str(tmp_path / 'b'), epochs=4, resume=True,
        load_from=str(tmp_path / 'a' / 'epoch_3.pth')))
    resumed.train()
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


def test_sau_device_path_trains_and_resumes_exactly(data, tmp_path):
    straight = Runner.from_cfg(sau_cfg(data, str(tmp_path / 'a'), epochs=2))
    recorder = LossRecorder()
    straight.register_hook(recorder)
    straight.train()
    assert {'loss_mix', 'loss_cut', 'loss_sc', 'noise_frac'} <= set(
        recorder.outputs[0])
    assert straight.model.prototypes.get().abs().sum() > 0
    # the straight run's epoch-1 checkpoint, resumed in a fresh work dir
    resumed = Runner.from_cfg(sau_cfg(
        data, str(tmp_path / 'b'), epochs=2, resume=True,
        load_from=str(tmp_path / 'a' / 'epoch_1.pth')))
    resumed.train()
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


@pytest.mark.slow
def test_sau_device_path_two_process_cpu_ddp(data, tmp_path):
    """tools/dist_train.sh, 2 processes: each rank trains on its shard of
    the index pairs; the cache is built by local rank 0 and loaded by the
    other. SAU's DDP test for both data paths: the sampler, the prototype
    and label-correction all-reduces and the launcher are the same code on
    the CPU path, whose datasets run per rank as in a single process."""
    root, manifest, _ = data
    options = [f'{SAU_DATASET}.data_root={root}',
               f'{SAU_DATASET}.synthetic_manifest={manifest}',
               f'{SAU_DATASET}.imbalance_factor=4',
               f'val_dataloader.dataset.data_root={root}',
               f'decoded_cache_dir={tmp_path / "cache"}',
               'train_cfg.max_epochs=1'] + [
                   f'{k}={v}' for k, v in TINY_SAU.items()
               ] + no_worker_options()
    code, log = dist_train(ROOT, SAU_DEVICE, tmp_path / 'work', options,
                           port=29523)
    assert code == 0, log[-4000:]
    assert 'Distributed training: True' in log
    assert 'Device data path:' in log and 'lt/top1' in log
    assert len(os.listdir(tmp_path / 'cache')) == 1  # one cache, one key
    assert osp.isfile(tmp_path / 'work' / 'epoch_1.pth')


def test_wrong_setups_fail_with_the_fix_named(data, tmp_path):
    pre = preprocessor([CROP_FLIP])
    with pytest.raises(RuntimeError, match='DecodedImagesHook'):
        pre(dict(inputs=torch.tensor([0, 1]), data_samples=None), True)
    with pytest.raises(ValueError, match='PackIndex'):
        pre(dict(inputs=torch.zeros(2, 3, 32, 32, dtype=torch.uint8),
                 data_samples=None), True)
    pre.set_decoded_images(np.zeros((4, 32, 32, 3), np.uint8))
    with pytest.raises(IndexError, match='another dataset'):
        pre(dict(inputs=torch.tensor([4]), data_samples=None), True)
    with pytest.raises(ValueError, match='partner_view'):
        pre(dict(inputs=torch.tensor([[0, 1]]), data_samples=None), True)
    # the hook on the CPU-path preprocessor
    cfg = ce_cfg(data, CE_CPU, str(tmp_path),
                 custom_hooks=[dict(type='DecodedImagesHook')])
    with pytest.raises(TypeError, match='DeviceViewsDataPreprocessor'):
        Runner.from_cfg(cfg).train()


def test_channels_last_option():
    pre = preprocessor([CROP_FLIP], channels_last=True)
    pre.set_decoded_images(np.zeros((4, 32, 32, 3), np.uint8))
    out = pre(dict(inputs=torch.tensor([0, 1]), data_samples=None), True)
    assert out['inputs'].is_contiguous(memory_format=torch.channels_last)
    val = pre(dict(inputs=torch.zeros(2, 3, 32, 32, dtype=torch.uint8),
                   data_samples=None), False)
    assert val['inputs'].is_contiguous(memory_format=torch.channels_last)


# ------------------------------------------------------------------ bf16
def test_bf16_autocast_wrapper_casts_convolutions_and_keeps_fp32_state():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Flatten(),
                                torch.nn.LazyLinear(4))
    model(torch.zeros(1, 3, 8, 8))
    wrapper = OPTIM_WRAPPERS.build(dict(
        type='BF16AutocastOptimWrapper',
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    x, y = torch.randn(16, 3, 8, 8), torch.randint(0, 4, (16,))
    losses = []
    for _ in range(10):
        with wrapper.optim_context(model):
            out = model(x)
            assert out.dtype == torch.bfloat16
            loss = torch.nn.functional.cross_entropy(out.float(), y)
        wrapper.update_params(loss)
        losses.append(float(loss))
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert not hasattr(wrapper, 'loss_scaler')
    assert losses[-1] < losses[0]


def test_amp_flag_selects_bf16_autocast():
    cfg = Config.fromfile(CE_CPU)
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'BF16AutocastOptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper


@pytest.mark.parametrize('native', [True, False])
def test_amp_on_a_cpu_without_bf16_warns(monkeypatch, native):
    import logging

    from mmengine.logging import MMLogger

    from sau_mm.engine import runner_setup
    monkeypatch.setattr(runner_setup.torch.cuda, 'is_available',
                        lambda: False)
    monkeypatch.setattr(runner_setup, 'cpu_has_bf16', lambda: native)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        enable_amp(Config.fromfile(CE_CPU))
    finally:
        logger.removeHandler(handler)
    warnings = [r.getMessage() for r in records
                if r.levelno == logging.WARNING]
    assert bool(warnings) != native
    if not native:
        assert 'without bfloat16 instructions' in warnings[0] and \
            'Drop --amp' in warnings[0]


def test_benchmark_suite_compares_both_paths_on_the_same_settings():
    from sau_mm.engine.benchmark import device_path_suite
    cases = {c.name: c for c in device_path_suite('M.jsonl', 'D', 10)}
    assert sorted(cases) == sorted(
        [f'{m}/{p}' for m in ('ce_classic', 'sau_classic', 'sau_widened')
         for p in ('cpu_path', 'device_path')] +
        ['ce_classic/device_path_bf16', 'sau_widened/device_path_bf16'])
    for model in ('ce_classic', 'sau_classic', 'sau_widened'):
        cpu, dev = cases[f'{model}/cpu_path'], cases[f'{model}/device_path']
        assert dev.config == cpu.config.replace('.py', '_device.py')
        assert dev.options == cpu.options  # same data, model, schedule
        for case in (cpu, dev):  # every option names a key of the config
            cfg = Config.fromfile(osp.join(ROOT, case.config))
            cfg.merge_from_dict(dict(o.split('=', 1) for o in case.options))
            dataset = cfg.train_dataloader.dataset
            dataset = dataset.get('dataset', dataset)
            assert dataset.data_root == 'D'
            assert dataset.imbalance_factor == '10'
            assert cfg.val_dataloader.dataset.data_root == 'D'
    assert 'model.backbone.base_channels=16' in cases[
        'sau_classic/cpu_path'].options
    assert 'model.backbone.base_channels=16' not in cases[
        'sau_widened/cpu_path'].options
    assert cases['sau_widened/cpu_path'].options[0] == (
        'train_dataloader.dataset.dataset.synthetic_manifest=M.jsonl')
