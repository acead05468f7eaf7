"""Planted bad images (sau_mm/datasets/planted_noise.py): exact counts per
class and kind, seeding, where each planted image comes from, the pixels of
degraded and near-duplicate images against plain references, and the
dataset training on exactly the planted manifest's records."""
import json
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
from mmpretrain.registry import DATASETS

from sau_mm.datasets.manifest import read_manifest, resolve_path
from sau_mm.datasets.planted_noise import (Degradation, load_rgb,
                                           plant_bad_images, planted_count,
                                           report_path)

from tests.support.data import (make_cifar, make_image_folder,
                                make_synthetic_manifest)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
REAL = [20, 15, 5, 3]            # target 20: needs 0, 5, 15, 17
POOL = [0, 30, 30, 30]           # generated "oracle" images per class
KINDS2 = ['off_class', 'degraded']


@pytest.fixture(scope='module')
def pool(tmp_path_factory):
    return make_synthetic_manifest(str(tmp_path_factory.mktemp('oracle')),
                                   POOL, source='oracle')


def path_of(manifest, rec):
    return osp.normpath(resolve_path(str(manifest), rec))


def plant(pool, out, rate=0.3, kinds=KINDS2, **kw):
    return plant_bad_images(pool, str(out), REAL, rate, kinds, **kw)


def by_kind(records):
    out = {}
    for r in records:
        out.setdefault(r.label, {}).setdefault(r.extra['planted'], 0)
        out[r.label][r.extra['planted']] += 1
    return out


def test_rounding_is_half_up_on_the_decimal_rate():
    # 0.3 * 355 = 106.5 -> 107 (Python's round() gives 106; the float
    # product 106.49999... would floor to 106 too)
    assert planted_count(0.3, 355) == 107 != round(0.3 * 355)
    assert [planted_count(0.3, n) for n in (0, 5, 14, 15, 17)] == \
        [0, 2, 4, 5, 5]
    assert planted_count(1.0, 9) == 9 and planted_count(0, 9) == 0


def test_exact_counts_per_class_and_kind(pool, tmp_path):
    out = tmp_path / 'p30' / 'manifest.jsonl'
    report = plant(pool, out)
    records = read_manifest(str(out))
    # needs 0 / 5 / 15 / 17; k = 0 / 2 (1.5) / 5 (4.5) / 5 (5.1); the odd
    # one goes to kind (c mod 2): class 2 -> off_class, class 3 -> degraded
    assert by_kind(records) == {
        1: {None: 3, 'off_class': 1, 'degraded': 1},
        2: {None: 10, 'off_class': 3, 'degraded': 2},
        3: {None: 12, 'off_class': 2, 'degraded': 3}}
    assert report['totals'] == dict(records=37, planted=dict(off_class=6,
                                                             degraded=6))
    assert [c['planted'] for c in report['per_class']] == [
        dict(off_class=0, degraded=0), dict(off_class=1, degraded=1),
        dict(off_class=3, degraded=2), dict(off_class=2, degraded=3)]
    with open(report_path(str(out))) as f:
        assert json.load(f) == report
    # three kinds: class 2, k=5 -> 1 each, the 2 left to kinds 2 and 0
    three = tmp_path / 'three' / 'manifest.jsonl'
    real = [{'gt_label': c, 'img': np.zeros((32, 32, 3), np.uint8)}
            for c, n in enumerate(REAL) for _ in range(n)]
    plant(pool, three, kinds=['off_class', 'degraded', 'near_duplicate'],
          real_samples=real)
    assert by_kind(read_manifest(str(three)))[2] == {
        None: 10, 'off_class': 2, 'degraded': 1, 'near_duplicate': 2}


def test_same_seed_same_manifest_and_pixels(pool, tmp_path):
    paths = [tmp_path / n / 'manifest.jsonl' for n in ('a', 'b', 'c')]
    for p, seed in zip(paths, (7, 7, 8)):
        plant(pool, p, seed=seed)
    text = [p.read_text() for p in paths]
    assert text[0] == text[1] and text[0] != text[2]
    for rec in read_manifest(str(paths[0])):
        if rec.extra['planted'] == 'degraded':
            a = (paths[0].parent / rec.path).read_bytes()
            assert a == (paths[1].parent / rec.path).read_bytes()


def test_off_class_images_come_from_unused_images_of_other_classes(
        pool, tmp_path):
    out = tmp_path / 'manifest.jsonl'
    plant(pool, out, rate=0.5, kinds=['off_class'])
    source = {path_of(pool, r): r.label for r in read_manifest(pool)}
    records = read_manifest(str(out))
    paths = [path_of(out, r) for r in records]
    assert len(set(paths)) == len(paths)       # no image used twice
    planted = [(r, p) for r, p in zip(records, paths)
               if r.extra['planted'] == 'off_class']
    assert len(planted) == 3 + 8 + 9         # 0.5 * (5, 15, 17), half up
    for rec, path in planted:
        assert source[path] == rec.extra['true_label'] != rec.label
    for rec, path in zip(records, paths):
        if rec.extra['planted'] is None:
            assert source[path] == rec.label
            assert 'true_label' not in rec.extra


def test_off_class_without_spare_images_uses_the_displaced_ones(tmp_path):
    # the pool holds exactly what the fill needs: every record becomes
    # off_class, so the donors are the displaced records themselves
    pool = make_synthetic_manifest(str(tmp_path / 'exact'), [0, 5, 15, 17])
    out = tmp_path / 'out' / 'manifest.jsonl'
    plant(pool, out, rate=1.0, kinds=['off_class'])
    source = {path_of(pool, r): r.label for r in read_manifest(pool)}
    records = read_manifest(str(out))
    paths = [path_of(out, r) for r in records]
    assert sorted(paths) == sorted(source)     # each image exactly once
    assert all(source[p] == r.extra['true_label'] != r.label
               for r, p in zip(records, paths))
    # 17 + 15 > 5 + ...: class 3 cannot get 17 images of other classes
    lopsided = make_synthetic_manifest(str(tmp_path / 'lop'), [0, 1, 1, 17])
    with pytest.raises(ValueError, match='off_class needs 19 images of '
                       r'other classes \(17 for class 3\)'):
        plant_bad_images(lopsided, str(tmp_path / 'x.jsonl'), [17, 16, 16, 0],
                         1.0, ['off_class'])


def reference_blur(img, sigma):
    """Direct 2-D sum of exp(-(u^2 + v^2) / 2 sigma^2) over the window
    |u|, |v| <= ceil(4 sigma), normalised, indices mirrored (-1 -> 0)."""
    r = int(np.ceil(4 * sigma))
    h, w = img.shape[:2]
    mirror = lambda i, n: -i - 1 if i < 0 else 2 * n - i - 1 if i >= n \
        else i  # noqa: E731
    out = np.zeros(img.shape)
    total = 0.0
    for u in range(-r, r + 1):
        for v in range(-r, r + 1):
            wt = np.exp(-(u * u + v * v) / (2 * sigma * sigma))
            total += wt
            rows = [mirror(y + u, h) for y in range(h)]
            cols = [mirror(x + v, w) for x in range(w)]
            out += wt * img[np.ix_(rows, cols)].astype(float)
    return out / total


def degraded_pairs(out):
    for rec in read_manifest(str(out)):
        if rec.extra['planted'] == 'degraded':
            yield (load_rgb(resolve_path(str(out), rec)),
                   load_rgb(osp.join(osp.dirname(str(out)),
                                     rec.extra['source_path'])), rec)


def test_degraded_pixels_are_the_blur_and_the_noise_specified(pool,
                                                              tmp_path):
    blur = tmp_path / 'blur' / 'manifest.jsonl'
    plant(pool, blur, kinds=['degraded'],
          degradation=Degradation(blur_sigma=1.5, noise_std=0))
    n = 0
    for new, orig, rec in degraded_pairs(blur):
        assert rec.extra['true_label'] == rec.label and rec.path.startswith(
            'planted/')
        ref = np.rint(reference_blur(orig, 1.5))
        assert np.abs(new.astype(int) - ref).max() <= 1  # float sum order
        assert np.abs(new.astype(int) - orig).mean() > 10   # really blurred
        n += 1
    assert n == 12
    noise = tmp_path / 'noise' / 'manifest.jsonl'
    plant(pool, noise, kinds=['degraded'],
          degradation=Degradation(blur_sigma=0, noise_std=25))
    diffs = []
    for new, orig, _ in degraded_pairs(noise):
        inside = (orig > 100) & (orig < 155)   # clipping 4 std away
        diffs.append((new.astype(float) - orig)[inside])
    diffs = np.concatenate(diffs)
    assert diffs.size > 3000
    assert abs(diffs.mean()) < 0.8 and abs(diffs.std() - 25) < 0.8


def test_near_duplicates_are_jittered_real_images_of_the_class(tmp_path):
    real_root = make_image_folder(str(tmp_path / 'real'), REAL)
    pool = make_synthetic_manifest(str(tmp_path / 'pool'), POOL)
    ds = DATASETS.build(dict(type='LongTailSyntheticDataset',
                             data_root=real_root, source='image_folder'))
    real = [ds.get_data_info(i) for i in ds.real_indices]
    out = tmp_path / 'out' / 'manifest.jsonl'
    plant(pool, out, rate=0.5, kinds=['near_duplicate'], real_samples=real,
          jitter_px=3)
    shifts = set()
    for rec in read_manifest(str(out)):
        if rec.extra['planted'] != 'near_duplicate':
            continue
        src_path = osp.join(osp.dirname(str(out)), rec.extra['source_path'])
        assert osp.basename(osp.dirname(src_path)) == f'class_{rec.label}'
        dx, dy, gain = rec.extra['jitter']
        assert max(abs(dx), abs(dy)) <= 3 and 0.9 <= gain <= 1.1
        src = load_rgb(src_path).astype(float)
        h, w = src.shape[:2]
        mirror = lambda i, n: -i - 1 if i < 0 else 2 * n - i - 1 \
            if i >= n else i  # noqa: E731
        ref = np.array([[src[mirror(y - dy, h), mirror(x - dx, w)]
                         for x in range(w)] for y in range(h)])
        np.testing.assert_array_equal(
            load_rgb(resolve_path(str(out), rec)),
            np.clip(np.rint(ref * gain), 0, 255))
        shifts.add((dx, dy))
    assert len(shifts) > 3


def test_the_dataset_trains_on_every_record_and_ignores_the_fields(
        pool, tmp_path):
    root = make_image_folder(str(tmp_path / 'real'), REAL)
    out = tmp_path / 'p' / 'manifest.jsonl'
    plant(pool, out, fill_to=18)
    records = read_manifest(str(out))
    assert [sum(r.label == c for r in records) for c in range(4)] == \
        [0, 3, 13, 15]
    ds = DATASETS.build(dict(type='LongTailSyntheticDataset', data_root=root,
                             source='image_folder',
                             synthetic_manifest=str(out), target_count=18))
    used = [ds.get_data_info(i)['img_path']
            for i in range(ds.num_real, len(ds))]
    assert used == [resolve_path(str(out), r) for r in records]
    assert ds.class_counts == [20, 18, 18, 18]
    # the dataset's default target (20) needs more than the file holds
    with pytest.raises(ValueError, match='too few images to fill'):
        DATASETS.build(dict(type='LongTailSyntheticDataset', data_root=root,
                            source='image_folder',
                            synthetic_manifest=str(out)))


def test_bad_arguments_are_named_before_any_file_is_written(pool, tmp_path):
    out = tmp_path / 'o' / 'manifest.jsonl'
    cases = [
        (dict(rate=1.5), r'rate must lie in \[0, 1\]'),
        (dict(kinds=['off_class', 'blurry']), 'kinds must be distinct'),
        (dict(kinds=['near_duplicate']), 'needs the real training samples'),
        (dict(kinds=['degraded'], degradation=Degradation(0, 0)),
         'not both 0'),
        (dict(fill_to=40), r'too few records to fill every class '
         r'\(have/needed: class 0: 0/20, class 2: 30/35, class 3: 30/37\)'),
    ]
    for kw, message in cases:
        with pytest.raises(ValueError, match=message):
            plant(pool, out, **kw)
    assert not osp.exists(out.parent)
    plant(pool, out)
    with pytest.raises(ValueError, match='already has a "planted" field'):
        plant(str(out), tmp_path / 'again.jsonl')
    with pytest.raises(ValueError, match='is the input'):
        plant(pool, pool)


def test_tool_reads_the_config_and_prints_the_training_options(
        tmp_path, monkeypatch, capsys):
    root = make_cifar(str(tmp_path / 'c10'), 'cifar10', 10, 12, 1)
    pool = make_synthetic_manifest(str(tmp_path / 'pool'), [12] * 10)
    config = tmp_path / 'cfg.py'
    config.write_text(
        f"_base_ = ['{ROOT}/configs/sau/resnet32_cifar10lt.py']\n"
        'train_dataloader = dict(dataset=dict(dataset=dict('
        f"data_root='{root}', imbalance_factor=4)))\n")
    out = str(tmp_path / 'out' / 'manifest.jsonl')
    monkeypatch.setattr(sys, 'argv', [
        'corrupt_manifest.py', pool, out, '--dataset-config', str(config),
        '--rate', '0.5', '--fill-to', '10', '--seed', '3'])
    runpy.run_path(osp.join(ROOT, 'tools/corrupt_manifest.py'),
                   run_name='__main__')
    printed = capsys.readouterr().out
    key = 'train_dataloader.dataset.dataset'
    assert f'{key}.synthetic_manifest={out} {key}.target_count=10' in printed
    with open(report_path(out)) as f:
        report = json.load(f)
    # real counts int(12 * 4^(-c/9)): 12 10 8 7 6 5 4 4 3 3 -> fill to 10
    assert [c['records'] for c in report['per_class']] == \
        [0, 0, 2, 3, 4, 5, 6, 6, 7, 7]
    assert report['seed'] == 3 and report['per_class'][9]['name'] == \
        'class_9'
    monkeypatch.setattr(sys, 'argv', [
        'corrupt_manifest.py', pool, out, '--dataset-config', str(config),
        '--rate', '2'])
    with pytest.raises(SystemExit, match='corrupt_manifest: rate must'):
        runpy.run_path(osp.join(ROOT, 'tools/corrupt_manifest.py'),
                       run_name='__main__')
