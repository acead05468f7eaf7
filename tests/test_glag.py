"""GLAG (docs/method.md#glag-this-projects-formulas, this project's
formulas): the Gradual Balanced Loss and its schedule, the calibrated tail
Gaussians, stage 2 on generated data, both stages through tools/train.py,
and every GLAG config."""
import copy
import glob
import json
import os
import os.path as osp
import runpy
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.registry import DATASETS, MODELS
from mmpretrain.structures import DataSample

from sau_mm.engine.hooks import FeatureStatisticsHook
from sau_mm.engine.hooks.runner_access import real_image_loader
from sau_mm.models.losses import GradualBalancedLoss, LogitAdjustedLoss
from sau_mm.models.utils import CalibratedTailFeatures

from tests.support.data import (make_cifar, make_image_folder, make_split_file,
                                make_synthetic_manifest)
from tests.support.training import LossRecorder, small_cfg

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
STAGE1 = osp.join(ROOT, 'configs/glag/resnet32_cifar10lt_stage1.py')
STAGE2 = osp.join(ROOT, 'configs/glag/resnet32_cifar10lt_stage2.py')
TINY = {'model.backbone.base_channels': 4, 'model.head.in_channels': 16}


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    """The tiny models run faster on one thread, above all on a shared
    machine; the previous setting comes back after this module."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ------------------------------------------------------------------- loss
def by_hand(z, y, counts, alpha, weight=None):
    """(1 - a) CE + a Balanced Softmax, mean (or weighted sum / N)."""
    log_prior = np.log(counts / counts.sum())
    ce = -torch.log_softmax(z, -1)[torch.arange(len(y)), y]
    bs = -torch.log_softmax(z + torch.tensor(log_prior).float(),
                            -1)[torch.arange(len(y)), y]
    per_sample = (1 - alpha) * ce + alpha * bs
    if weight is not None:
        per_sample = per_sample * weight
    return per_sample.mean()


@pytest.mark.parametrize('epoch', [0.0, 3.7, 10.0])
def test_gradual_balanced_loss_is_the_formula_written_out(epoch):
    g = torch.Generator().manual_seed(0)
    z, y = torch.randn(8, 5, generator=g), torch.randint(0, 5, (8, ),
                                                        generator=g)
    counts = np.array([50, 20, 9, 4, 2], dtype=np.float64)
    loss = GradualBalancedLoss(class_counts=counts.tolist())
    scalars = loss.set_progress(epoch, max_epochs=10)
    alpha = (epoch / 10)**2
    assert scalars == {'glag_alpha': pytest.approx(alpha)}
    torch.testing.assert_close(loss(z, y), by_hand(z, y, counts, alpha))
    w = torch.rand(8, generator=g)
    torch.testing.assert_close(loss(z, y, weight=w, avg_factor=8),
                               by_hand(z, y, counts, alpha, w))
    # A soft one-hot target gives the same loss.
    torch.testing.assert_close(loss(z, F.one_hot(y, 5).float()), loss(z, y))
    ends = {0.0: F.cross_entropy(z, y),
            10.0: LogitAdjustedLoss(tau=1.0, class_counts=counts)(z, y)}
    if epoch in ends:  # t = 0: plain CE; t = T: Balanced Softmax
        torch.testing.assert_close(loss(z, y), ends[epoch])


def test_gradual_balanced_loss_schedule_options_and_errors():
    loss = GradualBalancedLoss(power=1.0, end_epoch=4)
    assert loss.set_progress(2, max_epochs=100)['glag_alpha'] == 0.5
    assert loss.set_progress(9, max_epochs=100)['glag_alpha'] == 1.0
    z, y = torch.randn(2, 3), torch.tensor([0, 1])
    with pytest.raises(RuntimeError, match='ClassCountsHook'):
        loss(z, y)
    fresh = GradualBalancedLoss(class_counts=[3, 2, 1])
    with pytest.raises(RuntimeError, match='TrainingProgressHook'):
        fresh(z, y)
    with pytest.raises(ValueError, match='end_epoch'):
        fresh.set_progress(1)


# ------------------------------------------------------------ stage 1 run
@pytest.fixture(scope='module')
def cifar10(cifar10_pickles):
    return cifar10_pickles(40, 4)


@pytest.fixture(scope='module')
def stage1(cifar10, tmp_path_factory):
    """A 2-epoch stage-1 run on the tiny ResNet-32."""
    work = str(tmp_path_factory.mktemp('stage1'))
    runner = Runner.from_cfg(small_cfg(STAGE1, cifar10, work, **TINY))
    runner.train()
    history = runner.message_hub.get_scalar('train/glag_alpha').data[0]
    return SimpleNamespace(work_dir=work, alpha=list(history),
                           iters_per_epoch=len(runner.train_dataloader))


def test_alpha_follows_the_schedule_through_a_training_run(stage1):
    ipe, total = stage1.iters_per_epoch, 2
    expected = [(i / ipe / total)**2 for i in range(total * ipe)]
    np.testing.assert_allclose(stage1.alpha, expected, rtol=1e-12)
    # ... and it is in the logged scalars (logger interval 1 in small_cfg).
    scalars = glob.glob(osp.join(stage1.work_dir, '*', 'vis_data',
                                 'scalars.json'))
    logged = {}
    with open(scalars[0]) as f:
        for line in f:
            record = json.loads(line)
            if 'glag_alpha' in record:
                logged[record['iter']] = record['glag_alpha']
    assert sorted(logged) == list(range(1, total * ipe + 1))
    for it, value in logged.items():
        assert value == pytest.approx(expected[it - 1], abs=1e-4)


# ----------------------------------------------------------- statistics
COUNTS = [40, 35, 30, 25, 10, 8, 6, 5]  # median 17.5: heads 0-3, tails 4-7


def hand_built_features(seed=0, dim=4):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(len(COUNTS), dim))
    feats, labels = [], []
    for c, n in enumerate(COUNTS):
        scale = rng.uniform(0.3, 1.5, size=dim)
        feats.append(centres[c] + rng.normal(size=(n, dim)) * scale)
        labels += [c] * n
    feats, labels = np.concatenate(feats), np.array(labels)
    order = rng.permutation(len(labels))
    return feats[order], labels[order]


def numpy_reference(feats, labels, k=3, b=0.1, threshold=None):
    counts = np.bincount(labels)
    means = np.stack([feats[labels == c].mean(0) for c in range(len(counts))])
    threshold = np.median(counts) if threshold is None else threshold
    tail = np.flatnonzero(counts < threshold)
    head = np.flatnonzero(counts > threshold)
    k = min(k, len(head))
    out = []
    for c in tail:
        dist = np.linalg.norm(means[head] - means[c], axis=1)
        near = head[np.argsort(dist, kind='stable')[:k]]
        mu = (means[c] + means[near].sum(0)) / (k + 1)
        cov = np.mean([np.cov(feats[labels == h].T) for h in near], 0)
        out.append((c, near, mu, cov + b * np.eye(feats.shape[1])))
    return out


def computed_generator(feats, labels, batch_size=16, **kwargs):
    gen = CalibratedTailFeatures(len(COUNTS), **kwargs)
    x = torch.tensor(feats, dtype=torch.float32)
    y = torch.tensor(labels)
    gen.compute(zip(x.split(batch_size), y.split(batch_size)))
    return gen


@pytest.mark.parametrize('kwargs', [dict(), dict(k=2, b=0.5),
                                    dict(k=1, tail_threshold=9)])
def test_calibrated_statistics_equal_a_numpy_reference(kwargs):
    feats, labels = hand_built_features()
    feats = feats.astype(np.float32).astype(np.float64)
    gen = computed_generator(feats, labels, **kwargs)
    ref = numpy_reference(feats, labels, kwargs.get('k', 3),
                          kwargs.get('b', 0.1),
                          kwargs.get('tail_threshold'))
    assert gen.tail_classes.tolist() == [c for c, *_ in ref]
    assert gen.neighbours.tolist() == [near.tolist() for _, near, *_ in ref]
    np.testing.assert_allclose(gen.calibrated_mean.numpy(),
                               np.stack([mu for *_, mu, _ in ref]),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gen.calibrated_covariance().numpy(),
                               np.stack([cov for *_, cov in ref]),
                               rtol=1e-5, atol=1e-5)
    assert gen.real_counts.tolist() == COUNTS


def test_the_nearest_heads_are_chosen_by_distance_of_means():
    # Class means on a line: tail 4 at 0 is nearest to heads 2 (1), 0 (2)
    # and 3 (3), not 1 (10).
    centre = {0: 2.0, 1: 10.0, 2: 1.0, 3: 3.0, 4: 0.0, 5: 9.0, 6: 20.0,
              7: -5.0}
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(8), COUNTS)
    feats = np.array([[centre[c], 0.0] for c in labels]) + \
        rng.normal(0, 0.01, (len(labels), 2))
    gen = computed_generator(feats, labels)
    assert gen.neighbours.tolist() == [[2, 0, 3], [1, 3, 0], [1, 3, 0],
                                       [2, 0, 3]]


def test_generated_features_have_the_calibrated_moments():
    feats, labels = hand_built_features(seed=2)
    gen = computed_generator(feats, labels)
    torch.manual_seed(0)
    n = 40000
    for i in range(len(gen.tail_classes)):
        num = [0] * len(gen.tail_classes)
        num[i] = n
        x, y = gen.sample(num)
        assert (y == gen.tail_classes[i]).all() and len(x) == n
        x = x.double().numpy()
        mu = gen.calibrated_mean[i].double().numpy()
        cov = gen.calibrated_covariance()[i].numpy()
        var = np.diag(cov)
        np.testing.assert_array_less(np.abs(x.mean(0) - mu),
                                     5 * np.sqrt(var / n))
        tol = 5 * np.sqrt((np.outer(var, var) + cov**2) / n)
        np.testing.assert_array_less(np.abs(np.cov(x.T) - cov), tol)


def test_the_number_generated_brings_tail_classes_to_the_largest_share():
    feats, labels = hand_built_features()
    gen = computed_generator(feats, labels)
    with pytest.raises(RuntimeError, match='ClassCountsHook'):
        gen.num_to_generate(32)
    train = np.array(COUNTS, dtype=np.float64)
    gen.set_class_counts(COUNTS)
    batch = 32
    tail = gen.tail_classes.numpy()
    expected = batch * (train.max() - train[tail]) / train.sum()
    np.testing.assert_allclose(gen.expected_per_batch(batch), expected)
    # Tail class c then expects B n_c / N + e_c = B n_max / N in a batch.
    np.testing.assert_allclose(batch * train[tail] / train.sum() + expected,
                               batch * train.max() / train.sum())
    torch.manual_seed(0)
    draws = torch.stack([gen.num_to_generate(batch) for _ in range(4000)])
    assert ((draws == np.floor(expected)) |
            (draws == np.ceil(expected))).all()
    np.testing.assert_allclose(draws.double().mean(0), expected, atol=0.03)
    x, y = gen.sample(draws[0])
    assert torch.bincount(y, minlength=8)[tail].tolist() == draws[0].tolist()
    # A training set already filled to n_max (synthetic manifest): nothing.
    gen.set_class_counts([40] * 8)
    assert gen.num_to_generate(batch).sum() == 0


def test_statistics_must_be_computed_first():
    gen = CalibratedTailFeatures(8)
    with pytest.raises(RuntimeError, match='FeatureStatisticsHook'):
        gen.sample([1, 1])


def _distributed_worker(rank, world_size, port, feats, labels, out):
    torch.set_num_threads(1)
    torch.distributed.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
        world_size=world_size)
    gen = computed_generator(feats[rank::world_size],
                             labels[rank::world_size])
    torch.save({'mean': gen.calibrated_mean, 'factor': gen.factor,
                'neighbours': gen.neighbours}, f'{out}_{rank}.pt')
    torch.distributed.destroy_process_group()


@pytest.mark.slow
def test_under_ddp_every_rank_has_the_single_process_gaussians(tmp_path):
    feats, labels = hand_built_features(seed=3)
    single = computed_generator(feats, labels)
    ctx = torch.multiprocessing.get_context('fork')
    port = 29500 + os.getpid() % 2000
    procs = [ctx.Process(target=_distributed_worker,
                         args=(r, 2, port, feats, labels,
                               str(tmp_path / 'rank')))
             for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    ranks = [torch.load(tmp_path / f'rank_{r}.pt') for r in range(2)]
    for key in ranks[0]:
        assert torch.equal(ranks[0][key], ranks[1][key]), key
    assert torch.equal(ranks[0]['neighbours'], single.neighbours)
    torch.testing.assert_close(ranks[0]['mean'], single.calibrated_mean)
    torch.testing.assert_close(ranks[0]['factor'], single.factor,
                               rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- stage 2
def stage2_model(num_classes=10):
    cfg = Config.fromfile(STAGE2)
    cfg.merge_from_dict({**TINY, 'model.head.num_classes': num_classes})
    return MODELS.build(cfg.model)


TEST_PIPELINE = [dict(type='LoadImage'), dict(type='PackInputs')]


@pytest.mark.parametrize('source', ['cifar10', 'image_folder', 'split_file'])
def test_statistics_use_only_the_real_images_of_every_source(source,
                                                             tmp_path):
    counts = [12, 9, 7, 5, 4, 3]
    root = str(tmp_path / 'data')
    kwargs = dict(type='LongTailSyntheticDataset', data_root=root,
                  source=source, pipeline=TEST_PIPELINE)
    if source == 'cifar10':
        make_cifar(root, 'cifar10', 10, train_per_class=8)
        kwargs.update(num_classes=10, imbalance_factor=4)
    elif source == 'image_folder':
        make_image_folder(root, counts)
    else:
        make_split_file(root, counts)
        kwargs.update(split_file='train.txt', num_classes=len(counts))
    real = DATASETS.build(kwargs)
    num_classes = len(real.real_class_counts)
    fill = [max(real.real_class_counts) - n for n in real.real_class_counts]
    kwargs['synthetic_manifest'] = make_synthetic_manifest(
        str(tmp_path / 'syn'), fill)
    dataset = DATASETS.build(kwargs)
    assert dataset.class_counts == [max(real.real_class_counts)] * num_classes
    model = stage2_model(num_classes)
    runner = SimpleNamespace(
        model=model, train_dataloader=SimpleNamespace(dataset=dataset,
                                                      num_workers=0))
    FeatureStatisticsHook(batch_size=8).before_train(runner)
    stats = model.tail_features
    assert stats.real_counts.tolist() == dataset.real_class_counts
    # Filled by the manifest, the training set needs no generated features.
    stats.set_class_counts(dataset.class_counts)
    assert stats.num_to_generate(16).sum() == 0
    stats.set_class_counts(dataset.real_class_counts)
    assert (stats.expected_per_batch(16) > 0).all()


def encoder_state(state_dict):
    return {k: v for k, v in state_dict.items()
            if k.startswith(('backbone.', 'neck.'))}


class Stage2Probe(Hook):
    """(encoder training?, head training?) at every training iteration, and
    the head's CE on the real training features (the same seeded pass) at
    the start and the end of training."""
    priority = 'LOWEST'

    def __init__(self):
        self.modes, self.head_loss = set(), []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        model = runner.model
        self.modes.add((model.backbone.training or model.neck.training,
                        model.head.training))

    @torch.no_grad()
    def _head_loss(self, runner):
        torch.manual_seed(0)
        np.random.seed(0)
        model, losses = runner.model, []
        for batch in real_image_loader(runner, batch_size=256):
            feats, labels = model._features(batch)
            losses.append(F.cross_entropy(model.head((feats, )), labels,
                                          reduction='sum'))
        self.head_loss.append(float(sum(losses)))

    before_train = after_train = _head_loss


def test_stage2_freezes_the_encoder_and_trains_the_head(stage1, cifar10,
                                                        tmp_path):
    ckpt = osp.join(stage1.work_dir, 'epoch_2.pth')
    cfg = small_cfg(STAGE2, cifar10, str(tmp_path), epochs=4, load_from=ckpt,
                    **TINY, **{'optim_wrapper.optimizer.lr': 0.05})
    runner = Runner.from_cfg(cfg)
    recorder, probe = LossRecorder(), Stage2Probe()
    runner.register_hook(recorder)
    runner.register_hook(probe)
    runner.train()
    stage1_state = torch.load(ckpt, weights_only=False)['state_dict']
    model = runner.model
    assert probe.modes == {(False, True)}  # encoder eval, head train
    assert not any(p.requires_grad for p in model.backbone.parameters())
    after = encoder_state(model.state_dict())
    assert after and after.keys() == encoder_state(stage1_state).keys()
    for key, value in after.items():  # weights and BatchNorm statistics
        assert torch.equal(value, stage1_state[key]), key
    assert not torch.equal(model.head.fc.weight,
                           stage1_state['head.fc.weight'])
    assert all(o['num_generated'] > 0 for o in recorder.outputs)
    before, after = probe.head_loss
    assert after < 0.9 * before, probe.head_loss
    # The checkpoint is a plain ImageClassifier checkpoint.
    saved = torch.load(tmp_path / 'epoch_4.pth',
                       weights_only=False)['state_dict']
    plain = cfg.model.copy()
    for key in ('generator', 'mix', 'mix_alpha'):
        plain.pop(key)
    plain.type = 'ImageClassifier'
    MODELS.build(plain).load_state_dict(saved, strict=True)


def test_stage2_without_statistics_names_the_hook():
    model = stage2_model()
    model.tail_features.set_class_counts([5] * 10)
    samples = [DataSample().set_gt_label(c) for c in (0, 1)]
    with pytest.raises(RuntimeError, match='FeatureStatisticsHook'):
        model.loss(torch.rand(2, 3, 32, 32), samples)


def test_stage2_resumes_exactly(stage1, cifar10, tmp_path):
    ckpt = osp.join(stage1.work_dir, 'epoch_2.pth')

    def run(work, epochs, **kw):
        cfg = small_cfg(STAGE2, cifar10, str(tmp_path / work), epochs=epochs,
                        **TINY, **{'train_cfg.val_interval': 5, **kw})
        runner = Runner.from_cfg(cfg)
        runner.train()
        return runner.model.state_dict()

    straight = run('a', 2, load_from=ckpt)
    run('b', 1, load_from=ckpt)
    resumed = run('b', 2, resume=True,
                  load_from=str(tmp_path / 'b' / 'epoch_1.pth'))
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key


# ------------------------------------------------- tools, both stages
def test_stage1_then_stage2_through_the_tools(cifar10, tmp_path,
                                              monkeypatch):
    """tools/train.py stage 1, stage 2 from its checkpoint, tools/test.py
    (run in this process); what each logged."""
    common = [f'{s}_dataloader.{k}' for s in ('train', 'val', 'test')
              for k in (f'dataset.data_root={cifar10}', 'num_workers=0',
                        'persistent_workers=False')]
    common += ['train_dataloader.batch_size=64', 'train_cfg.max_epochs=1',
               'train_dataloader.dataset.imbalance_factor=4'] + [
                   f'{k}={v}' for k, v in TINY.items()]

    def tool(name, *args):
        """The log of ``tools/<name> ARGS`` (the newest in its work dir)."""
        work = args[args.index('--work-dir') + 1]
        monkeypatch.setattr(sys, 'argv', [name, *args])
        runpy.run_path(osp.join(ROOT, 'tools', name), run_name='__main__')
        logs = sorted(glob.glob(osp.join(work, '2*', '*.log')))
        with open(logs[-1]) as f:
            return f.read()

    w1, w2 = str(tmp_path / 's1'), str(tmp_path / 's2')
    out = tool('train.py', STAGE1, '--work-dir', w1, '--cfg-options',
               *common)
    assert 'glag_alpha' in out
    out = tool('train.py', STAGE2, '--work-dir', w2, '--cfg-options',
               *common, f'load_from={w1}/epoch_1.pth')
    assert 'Load checkpoint from' in out and 'Feature statistics of' in out
    assert 'num_generated' in out
    out = tool('test.py', STAGE2, f'{w2}/epoch_1.pth', '--work-dir', w2,
               '--cfg-options', *common)
    assert 'lt/top1' in out and 'lt/few' in out


# ---------------------------------------------------------------- configs
GLAG_CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs/glag/*.py')))
# Each setting is named after its baselines folder (configs/baselines/).
SETTINGS = ('resnet32_cifar10lt', 'resnet32_cifar100lt',
            'resnet32_cifar10jpeg_lt', 'resnet50_imagenetlt')


def test_every_setting_has_both_stages():
    names = {osp.basename(c) for c in GLAG_CONFIGS}
    assert names == {f'{s}_stage{i}.py' for s in SETTINGS for i in (1, 2)}


@pytest.mark.parametrize('config', GLAG_CONFIGS, ids=osp.basename)
def test_every_glag_config_loads_and_builds_its_model(config):
    cfg = Config.fromfile(config)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.setdefault('data_preprocessor',
                         copy.deepcopy(cfg.get('data_preprocessor')))
    model = MODELS.build(model_cfg)
    num_classes = cfg.data_preprocessor.num_classes
    assert model.head.num_classes == num_classes
    assert cfg.train_dataloader.dataset.num_classes == num_classes
    setting, stage = osp.basename(config)[:-3].rsplit('_stage', 1)
    hooks = [h.type for h in cfg.custom_hooks]
    assert {'ClassCountsHook', 'TrainingProgressHook',
            'FeatureStatisticsHook'} <= set(hooks)
    baseline = Config.fromfile(
        osp.join(ROOT, 'configs/baselines', setting, 'ce.py'))
    assert cfg.train_dataloader.dataset == baseline.train_dataloader.dataset
    assert cfg.data_preprocessor == baseline.data_preprocessor
    if stage == '1':
        assert cfg.model.head.loss.type == 'GradualBalancedLoss'
        assert cfg.model.head.loss.power == 2
        for key in ('optim_wrapper', 'param_scheduler', 'train_cfg',
                    'train_dataloader'):
            assert cfg[key] == baseline[key], key
        return
    stage1 = Config.fromfile(config.replace('_stage2', '_stage1'))
    assert type(model).__name__ == 'FeatureAugmentedClassifier'
    assert cfg.model.backbone == stage1.model.backbone
    assert cfg.model.head.loss == dict(type='CrossEntropyLoss', use_soft=True)
    assert cfg.model.generator == dict(k=3, b=0.1, tail_threshold='median')
    assert cfg.model.mix is True
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    assert cfg.train_cfg.max_epochs == 30
    assert cfg.optim_wrapper.optimizer.lr == 0.05
    assert [s.type for s in cfg.param_scheduler] == ['CosineAnnealingLR']
    assert cfg.param_scheduler[0].T_max == 30
    assert cfg.train_dataloader.sampler.type == 'DefaultSampler'
    assert cfg.load_from is None
