"""DiffuLT generator: training through MMEngine's runner, exact resume,
samples grid, classifier-free guidance."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpretrain.registry import MODELS
from PIL import Image

from sau_mm.generation.diffult import ClassConditionalDDPM, load_generator
from sau_mm.generation.diffult.benchmark import benchmark

from tests.support.data import make_image_folder
from tests.support.training import LossRecorder

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SMALL = osp.join(ROOT, 'configs/diffult/ddpm_small_cifar10jpeg_lt.py')
TINY_UNET = {
    'model.unet.block_out_channels': (16, 32),
    'model.unet.down_block_types': ('DownBlock2D', 'AttnDownBlock2D'),
    'model.unet.up_block_types': ('AttnUpBlock2D', 'UpBlock2D'),
    'model.unet.norm_num_groups': 4,
}


def tiny_cfg(data_root, work_dir, iters, samples_interval=2, **overrides):
    """The small preset with a 0.2M-parameter UNet on generated data."""
    cfg = Config.fromfile(SMALL)
    cfg.merge_from_dict({
        'work_dir': work_dir,
        'train_dataloader.dataset.data_root': data_root,
        'train_dataloader.dataset.imbalance_factor': 4,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.batch_size': 8,
        'train_cfg.max_iters': iters,
        'optim_wrapper.optimizer.lr': 2e-3,
        'param_scheduler': [dict(type='LinearLR', start_factor=0.1,
                                 by_epoch=False, begin=0, end=5)],
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': iters,
        'custom_hooks': [
            dict(type='IterRNGStateHook'),
            dict(type='EMAHook', momentum=0.1),
            dict(type='DiffusionSamplesHook', interval=samples_interval,
                 per_class=2,
                 steps=2),
        ],
        **TINY_UNET,
        **overrides,
    })
    return cfg


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return make_image_folder(str(tmp_path_factory.mktemp('lt')), [12] * 10)


def states(runner):
    """Raw weights and EMA weights after training."""
    ema = [h for h in runner.hooks if type(h).__name__ == 'EMAHook'][0]
    return {**{f'raw.{k}': v.clone()
               for k, v in runner.model.state_dict().items()},
            **{f'ema.{k}': v.clone()
               for k, v in ema.ema_model.state_dict().items()}}


def test_training_lowers_the_loss_and_saves_sample_grids(data_root,
                                                         tmp_path):
    cfg = tiny_cfg(data_root, str(tmp_path), iters=30, samples_interval=15)
    runner = Runner.from_cfg(cfg)
    recorder = LossRecorder()
    runner.register_hook(recorder)
    runner.train()
    assert set(recorder.outputs[0]) == {'loss', 'loss_mse'}
    assert recorder.mean('loss_mse', 'last') < \
        0.7 * recorder.mean('loss_mse', 'first')
    grid = Image.open(tmp_path / 'samples' / 'iter_0000030.png')
    assert grid.size == (2 * 32, 10 * 32)  # 10 classes x 2 per class
    # The checkpoint's state_dict is the EMA model, which sampling loads.
    model, _ = load_generator(str(tmp_path / 'ddpm_small_cifar10jpeg_lt.py'),
                              str(tmp_path / 'iter_30.pth'), 'cpu')
    ema = states(runner)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, ema[f'ema.module.{key}'], rtol=0,
                                   atol=0)
    key = 'unet.conv_in.weight'
    assert not torch.equal(ema[f'ema.module.{key}'], ema[f'raw.{key}'])


def test_resume_continues_identically(data_root, tmp_path):
    """6 iterations straight == the straight run's iteration-2 checkpoint
    resumed to 4, that run's iteration-4 checkpoint resumed to 6 (two
    resumes: later checkpoints of a resumed run must hold their own RNG
    state)."""
    every_2 = {'default_hooks.checkpoint.interval': 2}
    straight = Runner.from_cfg(tiny_cfg(data_root, str(tmp_path / 'a'), 6,
                                        **every_2))
    straight.train()
    start = osp.join(tmp_path, 'a', 'iter_2.pth')
    for end, work in ((4, 'b'), (6, 'c')):
        resumed = Runner.from_cfg(tiny_cfg(
            data_root, str(tmp_path / work), end, resume=True,
            load_from=start, **every_2))
        resumed.train()
        start = osp.join(tmp_path, work, f'iter_{end}.pth')
    a, b = states(straight), states(resumed)
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


def tiny_model(num_classes=3):
    init_default_scope('mmpretrain')
    return ClassConditionalDDPM(
        num_classes,
        dict(sample_size=16, block_out_channels=(16, 32),
             down_block_types=('DownBlock2D', 'AttnDownBlock2D'),
             up_block_types=('AttnUpBlock2D', 'UpBlock2D'),
             layers_per_block=1, norm_num_groups=4,
             attention_head_dim=None),
        data_preprocessor=dict(type='ClsDataPreprocessor',
                               mean=[127.5] * 3, std=[127.5] * 3)).eval()


def test_guidance_zero_is_the_conditional_prediction():
    torch.manual_seed(0)
    model = tiny_model()
    x = torch.randn(4, 3, 16, 16)
    t = torch.tensor(500)
    labels = torch.tensor([0, 1, 2, 1])
    with torch.no_grad():
        cond = model.unet(x, t, class_labels=labels).sample
        uncond = model.unet(x, t, class_labels=torch.full_like(labels, 3)
                            ).sample
        torch.testing.assert_close(model.guided_eps(x, t, labels, 0.0), cond,
                                   rtol=0, atol=0)
        torch.testing.assert_close(model.guided_eps(x, t, labels, 0.8),
                                   1.8 * cond - 0.8 * uncond)
    assert not torch.allclose(cond, uncond)  # the null class is its own


def test_samples_depend_on_their_own_seed_only():
    torch.manual_seed(0)
    model = tiny_model()
    gens = [torch.Generator().manual_seed(s) for s in (5, 6, 7)]
    batch = model.sample([0, 1, 2], gens, guidance=0.8, sampler='ddpm',
                         steps=3)
    alone = model.sample([1], [torch.Generator().manual_seed(6)],
                         guidance=0.8, sampler='ddpm', steps=3)
    assert batch.dtype == torch.uint8 and batch.shape == (3, 3, 16, 16)
    assert (batch[1:2].int() - alone.int()).abs().max() <= 1


def test_reference_config_is_the_ddpm_cifar_unet():
    cfg = Config.fromfile(osp.join(ROOT, 'configs/diffult/ddpm_cifar100lt.py'))
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    unet = model.unet.config
    assert unet.block_out_channels == (128, 256, 256, 256)
    assert unet.num_class_embeds == 101 and unet.dropout == 0.1
    assert 35e6 < sum(p.numel() for p in model.parameters()) < 36.5e6
    assert cfg.train_dataloader.dataset.imbalance_factor == 100
    assert cfg.train_dataloader.dataset.synthetic_manifest is None
    assert cfg.optim_wrapper.clip_grad.max_norm == 1.0


def test_benchmark_reports_throughput():
    result = benchmark(SMALL, batch_size=2, train_iters=1, sample_images=1,
                       sample_steps=1)
    assert result['params_m'] > 1 and result['train_steps_per_s'] > 0
    assert result['sample_images_per_s'] > 0
