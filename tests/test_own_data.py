"""Your own data (README "Your own data"): the image-folder configs
(each setting set once), resizing instead of silent crops, class-count
agreement, configurable shot groups, full-decode image checks, short logs
with the full lists in files, and the DiffuLT sampling plan. Bad inputs go
through the real tools (tools/*.py run in this process) where practical."""
import glob
import json
import os.path as osp
import re
import runpy
import sys
from types import SimpleNamespace

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpretrain.registry import DATASETS, MODELS
from PIL import Image

import sau_mm.datasets.lt_synthetic_dataset as lt
from sau_mm.datasets.long_tail import check_shot_thresholds, shot_group
from sau_mm.engine.hooks import ClassCountsHook
from sau_mm.engine.hooks.class_counts_hook import check_class_count_agreement
from sau_mm.engine.image_folder_settings import apply_image_folder_settings
from sau_mm.evaluation.metrics.long_tail_accuracy import LongTailAccuracy

from tests.support.data import (make_photo_folder, make_synthetic_manifest,
                                truncate_in_scan_data)
from tests.support.training import small_cfg

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CE = osp.join(ROOT, 'configs/baselines/resnet32_image_folder/ce.py')
BS = osp.join(ROOT,
              'configs/baselines/resnet32_image_folder/balanced_softmax.py')
SAU = osp.join(ROOT, 'configs/sau/resnet32_image_folder.py')
SAU_DEVICE = osp.join(ROOT, 'configs/sau/resnet32_image_folder_device.py')
DDPM = osp.join(ROOT, 'configs/diffult/ddpm_small_image_folder.py')
# 22 classes (more than LOG_MAX_CLASSES = 20: the per-class list goes to a
# file), naturally long-tailed, 2..12 images: every class is "few".
COUNTS = [12, 9, 7, 6, 5, 5, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
SIZE = 16  # image_folder.image_size in the runs (photos are 16..80 px)


@pytest.fixture(scope='module', autouse=True)
def one_torch_thread():
    """The tiny models here run fastest on one thread, and two threads on
    two shared cores can be 50x slower (spinning OpenMP workers)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('photos'))
    make_photo_folder(root, COUNTS, 'train')
    make_photo_folder(root, [1] * len(COUNTS), 'test', seed=1)
    return root


def setting_options(data_root, size=SIZE):
    return [f'image_folder.data_root={data_root}',
            f'image_folder.image_size={size}']


LOADERS = [f'{s}_dataloader.{k}' for s in ('train', 'val', 'test')
           for k in ('num_workers=0', 'persistent_workers=False')]
TRAIN_LOADER = LOADERS[:2]  # the DiffuLT generator has no val/test loaders


def run_tool(monkeypatch, tool, *args):
    monkeypatch.setattr(sys, 'argv', [tool] + [str(a) for a in args])
    runpy.run_path(osp.join(ROOT, 'tools', tool), run_name='__main__')


def run_log(work_dir):
    return open(glob.glob(osp.join(work_dir, '*', '*.log'))[0]).read()


def datasets_of(cfg):
    out = []
    for split in ('train', 'val', 'test'):
        ds = (cfg.get(f'{split}_dataloader') or {}).get('dataset')
        while ds is not None and ds.get('type') != 'LongTailSyntheticDataset':
            ds = ds.get('dataset')
        if ds is not None:
            out.append(ds)
    return out


def transforms(node, kind):
    """Every transform dict of type ``kind`` anywhere under ``node``."""
    found = []
    if isinstance(node, dict):
        if node.get('type') == kind:
            found.append(node)
        for v in node.values():
            found += transforms(v, kind)
    elif isinstance(node, (list, tuple)):
        for v in node:
            found += transforms(v, kind)
    return found


# ------------------------------------------------------------- set once
def test_each_setting_is_set_once_and_the_dump_shows_it(photos, tmp_path):
    opts = {'image_folder.data_root': photos, 'image_folder.image_size': 24}
    for path in (CE, BS, SAU, DDPM):
        cfg = Config.fromfile(path)
        cfg.merge_from_dict(opts)
        apply_image_folder_settings(cfg, opts)
        # num_classes=None: counted from <data_root>/train
        assert cfg.image_folder.num_classes == len(COUNTS)
        for ds in datasets_of(cfg):
            assert (ds.data_root, ds.num_classes, ds.image_size) == (
                photos, len(COUNTS), 24), path
        model = cfg.model
        if path == DDPM:
            assert (model.num_classes, model.unet.sample_size) == (22, 24)
        else:
            assert model.head.num_classes == 22
            assert cfg.data_preprocessor.num_classes == 22
        crops = transforms(cfg.train_dataloader, 'RandomCrop')
        assert crops or path == DDPM
        assert all((t.crop_size, t.padding) == (24, 3) for t in crops)
        if path == SAU:  # the three views and the partner
            assert len(crops) == 3
            assert [t.size for t in transforms(cfg.train_dataloader,
                                               'SimAugment')] == [24]
            assert [t.length for t in transforms(cfg.train_dataloader,
                                                 'SAUCutout')] == [12]
        # the dumped config holds the values used, and loads back as is
        cfg.dump(str(tmp_path / 'dumped.py'))
        back = Config.fromfile(str(tmp_path / 'dumped.py'))
        assert [d.data_root for d in datasets_of(back)] == \
            [photos] * len(datasets_of(cfg))
        assert back.image_folder.num_classes == 22
    # setting a copy instead of the setting: an error naming the setting
    cfg = Config.fromfile(CE)
    bad = {'train_dataloader.dataset.data_root': photos}
    cfg.merge_from_dict(bad)
    with pytest.raises(ValueError, match=r'image_folder\.data_root=\.\.\. '
                       'instead'):
        apply_image_folder_settings(cfg, bad)
    # the default folder does not exist: the error says what to set
    with pytest.raises(FileNotFoundError,
                       match=r"image_folder\.data_root='data/my_images'"):
        apply_image_folder_settings(Config.fromfile(CE))


@pytest.mark.parametrize('size', [64, 24])
def test_the_device_path_follows_the_image_size(size):
    """The SAU image-folder device config at image_folder.image_size=S: the
    batch ops drawn on the device are S-pixel ones (crop S with padding S/8,
    Cutout S/2, SimAugment S, input side S) as the CPU views, the
    preprocessor takes S x S decoded images and names the setting for
    others; the written keys are those the config lists."""
    from sau_mm.engine.image_folder_settings import targets
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(SAU_DEVICE)
    opts = {'image_folder.image_size': size, 'image_folder.num_classes': 5}
    cfg.merge_from_dict(opts)
    apply_image_folder_settings(cfg, opts)
    assert {'data_preprocessor.image_size', 'data_preprocessor.views',
            'data_preprocessor.partner_view'} <= {
        k for keys in targets(cfg).values() for k in keys}
    pre = MODELS.build(cfg.data_preprocessor)
    v1, v2, v3 = (view.transforms for view in pre.views)
    for crop in (v1[0], v2[0], pre.partner_view.transforms[0]):
        assert (crop.crop_size, crop.padding, crop.img_size) == (
            size, size // 8, size)
    assert (v2[2].length, v2[2].img_size) == (size // 2, size)
    assert (v3[0].size, v3[0].img_size) == (size, size)
    assert pre.num_classes == 5
    with pytest.raises(ValueError, match=rf'Decoded images are 32x32, the '
                       rf'views are drawn for {size}x{size} \('
                       'data_preprocessor.image_size; image_folder'):
        pre.set_decoded_images(np.zeros((2, 32, 32, 3), np.uint8))
    pre.set_decoded_images(np.zeros((2, size, size, 3), np.uint8))
    pre.reseed(0)
    views = pre.draw_views(torch.tensor([[0, 1], [1, 0]]))
    assert [tuple(v.shape) for v in views] == [(2, 3, size, size)] * 4


def test_image_folder_targets_are_checked():
    """A listed key the config lacks, or a copy set on the command line, is
    an error naming it and what to do."""
    cfg = Config.fromfile(SAU)
    cfg.image_folder.num_classes = 5
    cfg.image_folder_targets.image_size = ['model.unet.sample_size']
    with pytest.raises(ValueError, match=r"image_folder_targets\.image_size "
                       r"lists 'model\.unet\.sample_size', which this "
                       'config does not have'):
        apply_image_folder_settings(cfg)
    cfg = Config.fromfile(SAU_DEVICE)
    bad = {'data_preprocessor.image_size': 64}
    cfg.merge_from_dict(bad)
    with pytest.raises(ValueError, match=r'image_folder\.image_size=\.\.\. '
                       'instead'):
        apply_image_folder_settings(cfg, bad)


# ------------------------------------- a photo folder through the train tool
def test_balanced_softmax_on_a_photo_folder(photos, tmp_path, monkeypatch):
    """Full-size photos of many sizes: resized (counted), validation runs
    (it used to crash with "Trying to resize storage that is not
    resizable"), the loss confirms its counts, the 22-class listing goes to
    a file, the empty groups say so, the dumped config shows the folder."""
    work = str(tmp_path / 'bs')
    run_tool(monkeypatch, 'train.py', BS, '--work-dir', work,
             '--cfg-options', *setting_options(photos), *LOADERS,
             'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
             'default_hooks.logger.interval=1')
    log = run_log(work)
    assert ('LogitAdjustedLoss: class counts set, 22 classes, min 2 max 12'
            in log)
    n_train = sum(COUNTS)
    n_small = sum(1 for i in range(n_train) if i % 4 == 3)  # 16x16 ones
    assert (f'{n_train - n_small} of {n_train} real images (64x48: '
            in log), log
    assert f'are not {SIZE}x{SIZE} (width x height)' in log
    assert 'real images checked (full decode)' in log
    assert 'many  : no class in this group (> 100 real training images)' \
        in log
    assert 'lt/many: no class in this group' in log  # not a bare nan
    assert ('Shot groups: no class in many / medium under the default '
            'thresholds (many > 100, few < 20 real training images; this set '
            'has 2..12 per class), so lt/many reads "no class in this group".'
            ' To regroup, set train_dataloader.dataset.shot_thresholds=dict('
            'many_above=M, few_below=F) (the metric follows it).') in log
    assert 'lt/few: ' in log and 'lt/top1: ' in log
    listing = glob.glob(osp.join(work, '*', 'class_counts_train.txt'))
    assert listing and f'per-class list in {listing[0]}' in log
    assert len([ln for ln in open(listing[0]) if 'class_0' in ln]) == 22
    assert 'class_021' not in log  # the log has the summary only
    dumped = Config.fromfile(osp.join(work, 'balanced_softmax.py'))
    assert dumped.train_dataloader.dataset.data_root == photos
    assert dumped.model.head.num_classes == 22
    assert dumped.train_dataloader.dataset.image_size == SIZE


def test_sau_on_a_photo_folder_with_synthetic_images_of_another_size(
        photos, tmp_path, monkeypatch):
    """SAU's three views and partner at image_size; 32x32 synthetic images
    in a 16x16 set are resized (a warning counts them); a long partial-fill
    listing is a summary in the log and a file."""
    manifest = make_synthetic_manifest(str(tmp_path / 'syn'), [2] * 22)
    work = str(tmp_path / 'sau')
    run_tool(monkeypatch, 'train.py', SAU, '--work-dir', work,
             '--cfg-options', *setting_options(photos), *LOADERS,
             f'train_dataloader.dataset.dataset.synthetic_manifest={manifest}',
             'model.backbone.base_channels=8', 'model.head.in_channels=32',
             'train_cfg.max_epochs=1')
    log = run_log(work)
    # class c needs 12 - n_c synthetic images and gets at most 2
    n_syn = sum(min(2, 12 - n) for n in COUNTS)
    short = [c for c, n in enumerate(COUNTS) if 12 - n > 2]
    assert (f'{n_syn} of {n_syn} synthetic images (32x32: {n_syn}) are not '
            f'{SIZE}x{SIZE}' in log)
    assert 'WARNING' in log.split(f'{n_syn} of {n_syn} synthetic')[0] \
        .splitlines()[-1]
    line = next(ln for ln in log.splitlines()
                if 'Partial synthetic fill' in ln)
    assert f'{len(short)} of 22 classes short' in line and len(line) < 600
    path = glob.glob(osp.join(work, '*', 'synthetic_partial_fill_train.txt'))
    assert path and f'full list in {path[0]}' in line
    assert len(open(path[0]).read().splitlines()) == 1 + len(short)
    assert 'lt/top1: ' in log


def test_the_first_iterations_are_logged_early(photos, tmp_path,
                                               monkeypatch):
    """The default logger logs the 1st and the 10th iteration of a start
    (then every 50, and the epoch's last), so a user sees the run is alive
    long before the 50th; the scalars file keeps the regular interval."""
    work = str(tmp_path / 'ce')
    run_tool(monkeypatch, 'train.py', CE, '--work-dir', work, '--no-validate',
             '--cfg-options', *setting_options(photos), *LOADERS,
             'train_cfg.max_epochs=1', 'train_dataloader.batch_size=4')
    n = -(-sum(COUNTS) // 4)  # iterations per epoch
    logged = re.findall(r'Epoch\(train\) +\[1\]\[ *(\d+)/%d\]' % n,
                        run_log(work))
    assert logged == ['1', '10', str(n)]
    scalars = glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json'))
    assert [json.loads(ln)['iter'] for ln in open(scalars[0])] == [n]


def test_the_readme_smoke_recipe_sets_keys_the_configs_have():
    """Every --cfg-options key of the README's CPU smoke run exists in its
    config (a typo such as train_cfg.max_epoch would be merged silently)."""
    readme = open(osp.join(ROOT, 'README.md')).read()
    block = readme.split('**A CPU smoke run first.**')[1].split('```bash')[1] \
        .split('```')[0].replace('\\\n', ' ')
    variables = dict(re.findall(r'^(\w+)="([^"]*)"$', block, re.M))
    commands = [ln for ln in block.splitlines()
                if ' --cfg-options ' in ln and not ln.startswith('#')]
    assert len(commands) == 5
    checked = set()
    for line in commands:
        for name, value in variables.items():
            line = line.replace(f'${name}', value)
        config = next(w for w in line.split() if w.startswith('configs/'))
        cfg = Config.fromfile(osp.join(ROOT, config))
        for option in line.split(' --cfg-options ')[1].split():
            key = option.split('=')[0]
            node = cfg
            for part in key.split('.'):
                assert part in node, f'{config}: no key {key}'
                node = node[part]
            checked.add(key)
    assert {'train_cfg.max_epochs', 'train_cfg.max_iters',
            'train_dataloader.dataset.imbalance_factor',
            'model.backbone.base_channels'} <= checked


# -------------------------------------------------- class count agreement
class IterCounter(Hook):
    def __init__(self):
        self.iters = 0

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.iters += 1


@pytest.fixture(scope='module')
def cifar10(cifar10_pickles):
    return cifar10_pickles(20, 2)


def test_head_with_another_class_count_stops_before_the_first_iteration(
        cifar10, tmp_path):
    config = osp.join(ROOT, 'configs/baselines/resnet32_cifar10lt/ce.py')
    cfg = small_cfg(config, cifar10, str(tmp_path), epochs=1, **{
        'model.head.num_classes': 100, 'data_preprocessor.num_classes': 100})
    runner = Runner.from_cfg(cfg)
    counter = IterCounter()
    runner.register_hook(counter)
    with pytest.raises(ValueError) as err:
        runner.train()
    msg = str(err.value)
    assert 'the training data has 10 classes' in msg
    assert 'model.head.num_classes=100' in msg
    assert 'data_preprocessor.num_classes=100' in msg
    assert 'image_folder.num_classes=10' in msg
    assert counter.iters == 0


def build_from(config, num_classes):
    cfg = Config.fromfile(config)
    cfg.image_folder.num_classes = num_classes
    apply_image_folder_settings(cfg)
    init_default_scope('mmpretrain')
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor'):
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    return MODELS.build(model_cfg)


def photo_dataset(root, **kwargs):
    return DATASETS.build(dict(type='LongTailSyntheticDataset',
                               data_root=root, source='image_folder',
                               image_size=SIZE, pipeline=[], **kwargs))


def test_sau_model_and_generator_class_counts_are_checked(photos, tmp_path):
    train = photo_dataset(photos)
    runner = SimpleNamespace()
    import sau_mm.generation.diffult  # noqa: F401  (registers the DDPM)
    for config, key in ((SAU, 'model.head.num_classes=7'),
                        (DDPM, 'model.num_classes=7')):
        with pytest.raises(ValueError, match=r'training data has 22 '
                           rf'classes .* but {key}\b'):
            check_class_count_agreement(runner, build_from(config, 7), train)
    check_class_count_agreement(runner, build_from(SAU, 22), train)
    # a test split whose class folders differ from the training ones
    other = str(tmp_path / 'other')
    make_photo_folder(other, [2] * 22, 'test')
    (tmp_path / 'other' / 'test' / 'class_021').rename(
        tmp_path / 'other' / 'test' / 'class_zzz')
    val = photo_dataset(other, split='test', test_mode=True)
    runner = SimpleNamespace(_val_loop=SimpleNamespace(
        dataloader=SimpleNamespace(dataset=val)))
    with pytest.raises(ValueError, match=r"missing in val: \['class_021'\], "
                       r"not in train: \['class_zzz'\]"):
        check_class_count_agreement(runner, build_from(SAU, 22), train)


@pytest.mark.parametrize('extra_in', ['train', 'test'])
def test_a_class_folder_in_one_split_only_is_named_with_its_split(
        tmp_path, monkeypatch, extra_in):
    """A class folder in train/ but not in test/ (or the reverse): the
    error names the split and the folder, not a num_classes the user never
    set, before anything is built."""
    root = str(tmp_path / 'photos')
    other = 'test' if extra_in == 'train' else 'train'
    make_photo_folder(root, [3, 2, 2], extra_in)
    make_photo_folder(root, [1, 1], other, seed=1)
    with pytest.raises(ValueError) as err:
        run_tool(monkeypatch, 'train.py', CE, '--work-dir', tmp_path / 'w',
                 '--cfg-options', *setting_options(root), *LOADERS)
    msg = str(err.value)
    assert msg.startswith(f'The class folders of {root}/test (val_dataloader'
                          f') are not those of {root}/train: ')
    only = ("only in train: ['class_002'], only in test: []"
            if extra_in == 'train' else
            "only in train: [], only in test: ['class_002']")
    assert only in msg and 'num_classes' not in msg
    assert not (tmp_path / 'w').exists()


def test_an_option_typo_is_one_line_naming_the_key_and_the_dataset(
        photos, tmp_path, monkeypatch):
    """imbalance_factr: a one-line error naming the key, the dataset type
    and the option meant, before the run is set up (it used to be a
    TypeError traceback from BaseDataset.__init__)."""
    with pytest.raises(ValueError) as err:
        run_tool(monkeypatch, 'train.py', CE, '--work-dir', tmp_path / 'w',
                 '--cfg-options', *setting_options(photos), *LOADERS,
                 'train_dataloader.dataset.imbalance_factr=10')
    assert str(err.value) == ("LongTailSyntheticDataset has no option "
                              "'imbalance_factr': did you mean "
                              "'imbalance_factor'?")
    assert not (tmp_path / 'w').exists()
    # built directly (Python users), a key close to nothing: the options
    with pytest.raises(ValueError) as err:
        photo_dataset(photos, zzz=1)
    msg = str(err.value)
    assert msg.startswith("LongTailSyntheticDataset has no option 'zzz'; "
                          'its options: ') and '\n' not in msg
    assert 'imbalance_factor' in msg and 'serialize_data' in msg


# ------------------------------------------------------------ shot groups
def test_shot_thresholds_are_configurable_and_reach_the_metric(photos):
    assert shot_group(50, many_above=40, few_below=10) == 'many'
    assert [shot_group(n) for n in (101, 100, 20, 19)] == [
        'many', 'medium', 'medium', 'few']
    with pytest.raises(ValueError, match='both many and few'):
        check_shot_thresholds(dict(many_above=5, few_below=10))
    with pytest.raises(ValueError, match='takes'):
        check_shot_thresholds(dict(many=5))
    thresholds = dict(many_above=8, few_below=3)
    train = photo_dataset(photos, shot_thresholds=thresholds)
    assert train.shot_groups()[:3] == ['many', 'many', 'medium']
    assert train.shot_groups()[-1] == 'few'
    # ClassCountsHook hands the dataset's thresholds to the metric
    metric = LongTailAccuracy()
    runner = SimpleNamespace(
        train_dataloader=SimpleNamespace(dataset=train),
        model=torch.nn.Linear(1, 1), log_dir=None,
        _val_loop=SimpleNamespace(evaluator=SimpleNamespace(
            metrics=[metric])), _test_loop=None)
    ClassCountsHook().before_run(runner)
    assert metric.shot_thresholds == thresholds
    scores = torch.eye(22)
    results = [dict(score=scores[c], label=c) for c in range(22)]
    out = metric.compute_metrics(results)
    assert out['many'] == out['medium'] == out['few'] == 100.0
    # the default thresholds: many and medium are empty -> a text, no nan
    metric = LongTailAccuracy(train_class_counts=COUNTS)
    out = metric.compute_metrics(results)
    assert out['many'] == out['medium'] == 'no class in this group'
    assert out['few'] == 100.0
    metric.set_train_class_counts([200] + COUNTS[1:])
    out = metric.compute_metrics(results[1:])  # no test image of class 0
    assert out['many'] == 'no test image in this group'
    # thresholds set twice and different: an error naming the one place
    with pytest.raises(ValueError, match='train_dataloader.dataset.'
                       'shot_thresholds'):
        LongTailAccuracy(shot_thresholds=dict(many_above=50)) \
            .set_shot_thresholds(thresholds)


def test_an_empty_shot_group_names_the_setting_once(photos, monkeypatch):
    """Default thresholds, an empty group: one line naming the key (here
    below SAU's MixPartnerDataset); thresholds the user set: none."""
    import sau_mm.engine.hooks.class_counts_hook as hook_module
    logged = []
    monkeypatch.setattr(hook_module, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    cfg = Config(dict(train_dataloader=dict(dataset=dict(
        type='MixPartnerDataset',
        dataset=dict(type='LongTailSyntheticDataset')))))
    for thresholds in (None, dict(many_above=8, few_below=3)):
        train = photo_dataset(photos, shot_thresholds=thresholds)
        runner = SimpleNamespace(
            cfg=cfg, train_dataloader=SimpleNamespace(dataset=train),
            model=torch.nn.Linear(1, 1), log_dir=None,
            _val_loop=SimpleNamespace(evaluator=SimpleNamespace(
                metrics=[LongTailAccuracy()])), _test_loop=None)
        ClassCountsHook().before_run(runner)
    lines = [m for m in logged if m.startswith('Shot groups')]
    assert len(lines) == 1
    assert 'set train_dataloader.dataset.dataset.shot_thresholds=dict(' \
        in lines[0]


def test_dataset_log_says_no_class_in_this_group(photos, monkeypatch):
    logged = []
    monkeypatch.setattr(lt, 'print_log',
                        lambda msg, **kw: logged.append(str(msg)))
    photo_dataset(photos)
    text = '\n'.join(logged)
    assert 'many  : no class in this group (> 100 real training images)' \
        in text
    assert 'medium: no class in this group (20..100 real training images)' \
        in text
    assert 'few   : 22 classes (< 20 real training images)' in text


def test_non_image_files_are_counted_in_the_counts_line(tmp_path,
                                                        monkeypatch):
    root = str(tmp_path / 'photos')
    make_photo_folder(root, [3, 2], 'train')
    for rel in ('class_000/notes.txt', 'class_000/.DS_Store',
                'class_001/labels.csv', 'class_001/Thumbs.db'):
        (tmp_path / 'photos' / 'train' / rel).write_text('x')
    (tmp_path / 'photos' / 'train' / 'class_001' / 'sub').mkdir()
    logged = []
    monkeypatch.setattr(lt, 'print_log',
                        lambda msg, **kw: logged.append(str(msg)))
    ds = photo_dataset(root)
    assert ds.real_class_counts == [3, 2]
    first = next(m for m in logged if 'real + 0 synthetic' in m) \
        .splitlines()[0]
    assert first.endswith(
        '5 real + 0 synthetic images, 2 classes, real images checked (full '
        'decode), 4 non-image files skipped (not .jpg/.jpeg/.png/.bmp/.ppm/'
        ".pgm/.tif/.tiff/.webp: 'class_000/.DS_Store', 'class_000/notes.txt'"
        ", 'class_001/Thumbs.db', ...)")


# -------------------------------------------------- full-decode checks
def test_a_jpeg_truncated_in_its_scan_data_is_caught(photos, tmp_path,
                                                      monkeypatch):
    root = str(tmp_path / 'broken')
    make_photo_folder(root, [3, 2], 'train')
    make_photo_folder(root, [1, 1], 'test')
    bad = osp.join(root, 'train', 'class_001', '0001.jpg')
    truncate_in_scan_data(bad)
    with Image.open(bad) as img:
        img.verify()  # the header check lets it through
    with pytest.raises(ValueError) as err:
        photo_dataset(root)
    msg = str(err.value)
    assert f"Real image '{bad}' cannot be decoded in full" in msg
    assert 'image file is truncated' in msg and 'Replace it' in msg
    assert 'verify_real=False' in msg
    assert photo_dataset(root, verify_real=False).real_class_counts == [3, 2]
    # through the train tool: stops at start-up with the same message
    with pytest.raises(ValueError, match=r'0001\.jpg.* cannot be decoded'):
        run_tool(monkeypatch, 'train.py', CE, '--work-dir',
                 tmp_path / 'w', '--cfg-options', *setting_options(root),
                 *LOADERS)
    # a synthetic image (a JPEG in a .png file) cut the same way
    manifest = make_synthetic_manifest(str(tmp_path / 'syn'), [0, 1])
    syn = str(tmp_path / 'syn' / 'images' / '1' / '000000.png')
    Image.open(syn).convert('RGB').resize((64, 64)).save(syn, format='JPEG')
    truncate_in_scan_data(syn)
    with pytest.raises(ValueError, match=r'000000\.png.*unreadable or '
                       'corrupt.*truncated'):
        photo_dataset(root, verify_real=False, synthetic_manifest=manifest)


def test_synthetic_images_of_another_size_are_resized_not_cropped(
        cifar10, tmp_path, monkeypatch):
    manifest = make_synthetic_manifest(str(tmp_path / 'syn'), [20] * 10)
    for path in glob.glob(str(tmp_path / 'syn' / 'images' / '*' / '*.png')):
        Image.open(path).resize((64, 64), Image.BICUBIC).save(path)
    logged = []
    monkeypatch.setattr(lt, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    ds = DATASETS.build(dict(
        type='LongTailSyntheticDataset', data_root=cifar10, source='cifar10',
        imbalance_factor=4, synthetic_manifest=manifest,
        pipeline=[dict(type='LoadImage'), dict(type='PackInputs')]))
    n_syn = sum(ds.synthetic_class_counts)
    msg, kw = next((m, k) for m, k in logged if 'are not 32x32' in m)
    assert f'{n_syn} of {n_syn} synthetic images (64x64: {n_syn})' in msg
    assert 'resizes them to 32x32' in msg and kw['level'] == 30
    idx = ds.num_real
    item = ds[idx]['inputs']
    assert tuple(item.shape) == (3, 32, 32)
    whole = mmcv.imresize(mmcv.imread(ds.get_data_info(idx)['img_path'],
                                      channel_order='rgb'), (32, 32),
                          interpolation='area')
    np.testing.assert_array_equal(item.permute(1, 2, 0).numpy(), whole)


# ------------------------------------------------------- DiffuLT sampling
def test_diffult_on_a_photo_folder_and_its_sampling_plan(
        photos, tmp_path, monkeypatch):
    work = str(tmp_path / 'ddpm')
    opts = setting_options(photos)
    run_tool(monkeypatch, 'train.py', DDPM, '--work-dir', work,
             '--cfg-options', *opts, *TRAIN_LOADER, 'train_cfg.max_iters=2',
             'default_hooks.checkpoint.interval=2',
             'train_dataloader.batch_size=4')
    ckpt = osp.join(work, 'iter_2.pth')
    assert osp.isfile(ckpt)
    out = str(tmp_path / 'samples')
    run_tool(monkeypatch, 'diffult_sample.py', DDPM, ckpt, '--out-dir', out,
             '--per-class', 1, '--steps', 2, '--device', 'cpu',
             '--cfg-options', *opts)
    records = [json.loads(ln) for ln in open(osp.join(out,
                                                      'manifest.jsonl'))]
    assert sorted(r['label'] for r in records) == list(range(22))
    with Image.open(osp.join(out, records[0]['path'])) as img:
        assert img.size == (SIZE, SIZE)
    settings = json.load(open(osp.join(out, 'sampling.json')))
    assert settings['per_class'] == 1
    assert settings['cfg_options']['image_folder.data_root'] == photos
    # a plan of 0 images: an error, no manifest
    empty = str(tmp_path / 'empty')
    with pytest.raises(SystemExit, match='Nothing to sample: the plan has 0 '
                       'images.*--per-class N'):
        run_tool(monkeypatch, 'diffult_sample.py', DDPM, ckpt, '--out-dir',
                 empty, '--target-count', 1, '--steps', 2, '--device', 'cpu',
                 '--cfg-options', *opts)
    assert not osp.exists(osp.join(empty, 'manifest.jsonl'))
    # another image size or class count than the checkpoint's: an error
    # naming the setting, before sampling (a UNet samples any size, and a
    # class count mismatch used to be torch's state-dict size mismatch)
    other = str(tmp_path / 'other')
    with pytest.raises(SystemExit, match=r'Image size mismatch: the '
                       rf'generator {ckpt} was trained on 16x16 images .*'
                       r'this config samples 32x32 \(image_folder.image_size'
                       r'=32\)\. Set image_folder.image_size=16'):
        run_tool(monkeypatch, 'diffult_sample.py', DDPM, ckpt, '--out-dir',
                 other, '--per-class', 1, '--steps', 2, '--device', 'cpu',
                 '--cfg-options', *setting_options(photos, 32))
    with pytest.raises(SystemExit, match=r'Class count mismatch: the '
                       rf'generator {ckpt} was trained on 22 classes, this '
                       r'config gives 21 \(image_folder.num_classes\)'):
        run_tool(monkeypatch, 'diffult_sample.py', DDPM, ckpt, '--out-dir',
                 other, '--per-class', 1, '--steps', 2, '--device', 'cpu',
                 '--cfg-options', *opts, 'image_folder.num_classes=21')
    assert not osp.exists(other)
