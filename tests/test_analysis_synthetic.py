"""Synthetic-set quality: precision / recall / Frechet distance
against plain NumPy references, the synthetic report on a generated DiffuLT
layout with a tiny encoder trained here, the confusion matrix, and
RunInfoHook on a real (tiny) run that is resumed once."""
import glob
import json
import logging
import os
import os.path as osp
import re
import runpy
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from sau_mm.analysis import compare_runs
from sau_mm.analysis.confusion import compute_confusion, figure_size
from sau_mm.analysis.feature_metrics import (equal_size, frechet_distance,
                                             pca_basis,
                                             precision_recall)
from sau_mm.analysis.synthetic_report import fd_cell, set_metrics
from sau_mm.analysis.synthetic_sets import load_synthetic_set
from sau_mm.datasets.manifest import ManifestRecord, write_manifest

from tests.support.data import class_images, make_image_folder

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CE = osp.join(ROOT, 'configs/baselines/resnet32_image_folder/ce.py')
COUNTS = [6, 24, 4, 12]          # size order: classes 1, 3, 0, 2
TOOLS = osp.join(ROOT, 'tools')


# ------------------------------------------------------------ references
def ref_precision_recall(real, fake, k):
    """Kynkaanniemi et al. 2019 written out: k-th neighbour radii by a full
    sort of Euclidean distances (index 0 is the point itself)."""
    def radii(x):
        d = np.linalg.norm(x[:, None] - x[None], axis=-1)
        return np.sort(d, axis=1)[:, k]
    d = np.linalg.norm(fake[:, None] - real[None], axis=-1)   # (F, R)
    precision = np.mean([(d[i] <= radii(real)).any()
                         for i in range(len(fake))])
    recall = np.mean([(d[:, j] <= radii(fake)).any()
                      for j in range(len(real))])
    return precision, recall


def ref_frechet(x, y):
    """||m1 - m2||^2 + tr S1 + tr S2 - 2 sum sqrt(eig(S1 S2))."""
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    lam = np.linalg.eigvals(s1 @ s2).real.clip(0)
    return (((x.mean(0) - y.mean(0)) ** 2).sum() + np.trace(s1)
            + np.trace(s2) - 2 * np.sqrt(lam).sum())


def test_precision_recall_equal_the_reference_and_default_k_is_3():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(60, 5))
    fake = rng.normal(0.7, 1.3, size=(45, 5))
    got = precision_recall(real, fake)
    for k in (1, 3, 5):
        p, r = ref_precision_recall(real, fake, k)
        assert precision_recall(real, fake, k) == pytest.approx(
            dict(precision=p, recall=r), abs=1e-12)
    ref3, ref1 = ref_precision_recall(real, fake, 3), \
        ref_precision_recall(real, fake, 1)
    assert ref3 != ref1          # the data tells k = 1 from k = 3
    assert (got['precision'], got['recall']) == pytest.approx(ref3)
    # identical sets
    assert precision_recall(real, real.copy()) == dict(precision=1.0,
                                                       recall=1.0)
    # by hand, 1-d, k = 3: real radii 3, 2, 2, 3; fakes 1.5, 5 and -3 (on
    # the boundary of 0's ball) inside; every real point is inside the
    # ball of 1.5 (radius 8.5)
    real1 = np.array([[0.], [1.], [2.], [3.]])
    fake1 = np.array([[10.], [1.5], [5.], [100.], [-3.]])
    assert precision_recall(real1, fake1) == dict(precision=0.6, recall=1.0)
    assert precision_recall(real1[:3], fake1) is None     # <= k samples


def test_frechet_distance_equals_the_reference():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 6)) @ rng.normal(size=(6, 6))
    y = rng.normal(0.5, 2.0, size=(50, 6))
    assert frechet_distance(x, y) == pytest.approx(ref_frechet(x, y),
                                                   rel=1e-9)
    scale = np.trace(np.cov(x, rowvar=False)) * 2
    assert frechet_distance(x, x.copy()) <= 1e-6 * scale
    # 1-d: (m1 - m2)^2 + (sd1 - sd2)^2
    a, b = rng.normal(2, 3, size=(40, 1)), rng.normal(-1, 1, size=(30, 1))
    assert frechet_distance(a, b) == pytest.approx(
        (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2,
        rel=1e-9)
    # fewer samples than dimensions (rank-deficient covariances)
    u, v = rng.normal(size=(5, 12)), rng.normal(size=(7, 12))
    assert frechet_distance(u, v) == pytest.approx(ref_frechet(u, v),
                                                   rel=1e-6)
    assert frechet_distance(u[:1], v) is None


def test_sets_are_compared_at_equal_sizes():
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(200, 4)), rng.normal(size=(20, 4))
    idx = np.sort(np.random.default_rng(7).choice(200, 20, replace=False))
    r, f = equal_size(real, fake, seed=7)
    np.testing.assert_array_equal(r, real[idx])
    assert f is fake
    labels = np.zeros(20, dtype=int)
    pred = np.r_[np.zeros(15, dtype=int), np.ones(5, dtype=int)]
    m = set_metrics(real, fake, pred, labels, k=3, seed=7)
    p, rc = ref_precision_recall(real[idx], fake, 3)
    assert (m['precision'], m['recall']) == pytest.approx((p, rc))
    assert m['frechet'] == pytest.approx(ref_frechet(real[idx], fake))
    assert (m['agreement'], m['n'], m['compared']) == (0.75, 20, 20)
    # the data tell equal sizes from all 200 real points against 20
    assert ref_precision_recall(real, fake, 3) != (p, rc)


def test_fewer_samples_than_dims_is_marked_and_the_projected_distance_works():
    """n = 10 compared images in d = 30 dimensions: the plain Frechet
    distance is marked unreliable; the distance after projecting both sets
    onto the top 4 principal directions of the pooled real features equals
    a plain NumPy reference (SVD of the centred real features)."""
    rng = np.random.default_rng(3)
    pooled = rng.normal(size=(300, 30)) * np.linspace(5, 0.1, 30)
    real, fake = pooled[:12], rng.normal(0.3, 2.0, size=(10, 30))
    labels = np.zeros(10, dtype=int)
    m = set_metrics(real, fake, labels, labels, k=3, seed=0,
                    basis=pca_basis(pooled, 4))
    assert (m['compared'], m['frechet_reliable'],
            m['frechet_pca_reliable']) == (10, False, True)
    r_eq, f_eq = equal_size(real, fake, seed=0)
    centred = pooled - pooled.mean(0)
    top = np.linalg.svd(centred, full_matrices=False)[2][:4].T  # (30, 4)
    ref = ref_frechet((r_eq - pooled.mean(0)) @ top,
                      (f_eq - pooled.mean(0)) @ top)
    assert m['frechet_pca'] == pytest.approx(ref, rel=1e-9)
    assert m['frechet'] == pytest.approx(ref_frechet(r_eq, f_eq), rel=1e-6)
    assert fd_cell(m, 'frechet', 30) == \
        f'{m["frechet"]:.2f} unreliable (n 10 <= d 30)'
    assert fd_cell(m, 'frechet_pca', 4) == f'{m["frechet_pca"]:.2f}'
    # d' = 12 >= n: the projected distance is marked too
    m12 = set_metrics(real, fake, labels, labels, k=3, seed=0,
                      basis=pca_basis(pooled, 12))
    assert m12['frechet_pca_reliable'] is False
    assert fd_cell(m12, 'frechet_pca', 12).endswith(
        'unreliable (n 10 <= d 12)')


# ------------------------------------------------------ tiny trained run
@pytest.fixture(scope='module', autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run_tool(monkeypatch, tool, *args):
    monkeypatch.setattr(sys, 'argv', [tool] + [str(a) for a in args])
    runpy.run_path(osp.join(TOOLS, tool), run_name='__main__')


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A ResNet-32 CE run on a generated 4-class image folder: 1 epoch,
    then resumed for a second (two starts of RunInfoHook)."""
    root = str(tmp_path_factory.mktemp('folder'))
    make_image_folder(root, COUNTS, 'train')
    make_image_folder(root, [3] * 4, 'test', seed=1)
    work = str(tmp_path_factory.mktemp('work'))
    options = [f'image_folder.data_root={root}',
               'train_dataloader.batch_size=16',
               'default_hooks.logger.interval=1'] + [
        f'{s}_dataloader.{k}' for s in ('train', 'val', 'test')
        for k in ('num_workers=0', 'persistent_workers=False')]
    mp = pytest.MonkeyPatch()
    try:
        for epochs, extra in ((1, []), (2, ['--resume'])):
            run_tool(mp, 'train.py', CE, '--work-dir', work, *extra,
                     '--cfg-options', f'train_cfg.max_epochs={epochs}',
                     *options)
    finally:
        mp.undo()
    return dict(root=root, work=work, tool_options=options,
                options={'image_folder.data_root': root})


def git_head():
    try:
        out = subprocess.run(['git', '-C', ROOT, 'rev-parse', 'HEAD'],
                             capture_output=True, text=True, timeout=10)
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def test_run_info_hook_records_each_start_and_the_table_reads_it(trained):
    with open(osp.join(trained['work'], 'run_info.json')) as f:
        sessions = json.load(f)['sessions']
    assert [s['max_epochs'] for s in sessions] == [1, 2]
    assert [s['resumed'] for s in sessions] == [False, True]
    for s in sessions:
        assert s['config'] == 'baselines/resnet32_image_folder/ce'
        assert s['finished'] and s['wall_s'] > 0
        assert s['world_size'] == 1 and s['torch'] == torch.__version__
        assert osp.basename(s['argv'][0]) == 'train.py' and \
            s['argv'][1] == CE
        assert s['commit'] == git_head()
        if not torch.cuda.is_available():
            assert s['device'].startswith('CPU: ')
    row, = compare_runs([trained['work']])
    assert row['status'] == 'finished' and (row['done'], row['planned']) \
        == (2, 2)
    assert row['wall_s'] == pytest.approx(sum(s['wall_s']
                                              for s in sessions))
    assert row['device'] == sessions[-1]['device']
    assert row['method'] == 'baselines/resnet32_image_folder/ce'
    assert row['top1_last_epoch'] == 2
    head = git_head()
    if head:
        assert row['commit'].startswith(head[:10])


def test_a_fresh_start_in_a_used_work_dir_warns_and_starts_a_new_record(
        trained, tmp_path, monkeypatch):
    """No --resume into a work dir that holds a run: a warning saying how
    to resume or keep it, and run_info.json records a new start (the
    earlier run's sessions under earlier_runs), not a resume; the run table
    reads the new run only."""
    import sau_mm.engine.runner_setup as setup
    work = str(tmp_path / 'work')
    shutil.copytree(trained['work'], work)
    with open(osp.join(work, 'run_info.json')) as f:
        earlier = json.load(f)['sessions']
    hour_ago = time.time() - 3600  # the earlier run's files are older
    for path in glob.glob(osp.join(work, '*')):
        os.utime(path, (hour_ago, hour_ago))
    logged = []
    monkeypatch.setattr(setup, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    run_tool(monkeypatch, 'train.py', CE, '--work-dir', work,
             '--cfg-options', 'train_cfg.max_epochs=1',
             *trained['tool_options'])
    msg, kw = next((m, k) for m, k in logged if 'already holds a run' in m)
    assert msg.startswith(f'{work} already holds a run (best_lt_top1_epoch_')
    assert msg.endswith('To continue that run, add --resume; to keep it, '
                        'pick another --work-dir.')
    assert kw['level'] == logging.WARNING
    with open(osp.join(work, 'run_info.json')) as f:
        info = json.load(f)
    assert info['earlier_runs'] == [earlier]
    session, = info['sessions']
    assert (session['resumed'], session['max_epochs']) == (False, 1)
    row, = compare_runs([work])
    assert (row['done'], row['planned']) == (1, 1)
    assert row['wall_s'] == pytest.approx(session['wall_s'])
    logs = sorted(glob.glob(osp.join(work, '2*', '*.log')))
    assert 'run_info.json: a new start (no --resume)' in open(logs[-1]).read()


def test_every_config_family_has_the_run_info_hook():
    for config in ('baselines/resnet32_cifar10jpeg_lt/ce.py',
                   'sau/resnet32_cifar10jpeg_lt.py',
                   'glag/resnet32_cifar10jpeg_lt_stage1.py',
                   'glag/resnet32_cifar10jpeg_lt_stage2.py',
                   'diffult/ddpm_small_cifar10jpeg_lt.py',
                   'diffult/ddpm_small_image_folder.py',
                   'baselines/resnet50_imagenetlt/ce.py'):
        cfg = Config.fromfile(osp.join(ROOT, 'configs', config))
        assert cfg.default_hooks.run_info == dict(type='RunInfoHook'), config


def last_per_class(work):
    files = sorted(glob.glob(osp.join(work, '*', 'per_class_accuracy_*.json')))
    with open(files[-1]) as f:
        return json.load(f)


def test_confusion_matrix_agrees_with_the_metric_and_orders_by_size(
        trained, tmp_path, monkeypatch):
    ckpt = osp.join(trained['work'], 'epoch_2.pth')
    result = compute_confusion(CE, ckpt, trained['options'])
    m = np.asarray(result['matrix'])
    assert m.sum() == 12 and (m.sum(1) == 3).all()
    assert result['order'] == [1, 3, 0, 2]
    assert result['train_counts'] == COUNTS
    np.testing.assert_allclose(np.diag(m) / 3 * 100,
                               last_per_class(trained['work'])
                               ['per_class_top1'])
    run_tool(monkeypatch, 'analysis/confusion.py', CE, ckpt, '--out',
             tmp_path, '--cfg-options',
             f'image_folder.data_root={trained["root"]}')
    side = round(figure_size(4) * 100)
    with Image.open(tmp_path / 'confusion.png') as img:
        assert img.size == (side, side)
    with open(tmp_path / 'confusion.json') as f:
        assert json.load(f) == result
    rows = (tmp_path / 'confusion.csv').read_text().splitlines()
    assert rows[0].split(',')[1:] == ['class_1', 'class_3', 'class_0',
                                      'class_2']


# ----------------------------------------------------- synthetic report
def make_diffult_layout(folder, real_root):
    """DiffuLT filter layout: manifest.jsonl (every sample, no score) and
    manifest_filtered.jsonl (kept, with score) + its report. Class 0: none;
    class 1: 3 generated (too few for k = 3); class 2: 8 generated, the
    first 5 kept; class 3: the 12 REAL training images of class 3 (the
    identical-set case)."""
    os.makedirs(osp.join(folder, 'images'))
    rng = np.random.default_rng(5)
    records = []
    for c, n in ((1, 3), (2, 8)):
        for i, img in enumerate(class_images(c, n, rng)):
            rel = f'images/{c}_{i}.png'
            Image.fromarray(img).save(osp.join(folder, rel))
            records.append(ManifestRecord(path=rel, label=c, source='diffult'))
    for path in sorted(glob.glob(osp.join(real_root, 'train', 'class_3',
                                          '*.png'))):
        records.append(ManifestRecord(path=path, label=3, source='diffult'))
    write_manifest(osp.join(folder, 'manifest.jsonl'), records)
    kept = records[:3] + records[3:8] + records[11:]
    scores = {id(r): 0.9 - 0.01 * i for i, r in enumerate(kept)}
    write_manifest(osp.join(folder, 'manifest_filtered.jsonl'), [
        ManifestRecord(path=r.path, label=r.label, source=r.source,
                       score=scores[id(r)]) for r in kept])
    with open(osp.join(folder, 'manifest_filtered.report.json'), 'w') as f:
        json.dump({'rule': 'centroid'}, f)
    flags = osp.join(folder, 'epoch_1.json')
    with open(flags, 'w') as f:
        json.dump({'epoch': 1, 'flagged_samples': [
            {'index': 7, 'path': osp.join(folder, records[3].path)}]}, f)
    return [scores[id(r)] for r in records[3:8]], flags


def test_synthetic_report_on_a_diffult_layout(trained, tmp_path,
                                              monkeypatch):
    syn = str(tmp_path / 'syn')
    kept_scores, flags = make_diffult_layout(syn, trained['root'])
    out = tmp_path / 'report'
    run_tool(monkeypatch, 'analysis/synthetic_report.py',
             osp.join(syn, 'manifest.jsonl'), CE, CE,
             osp.join(trained['work'], 'epoch_2.pth'), '--out', out,
             '--noise-flags', flags, '--sheet-images', 4, '--cfg-options',
             f'image_folder.data_root={trained["root"]}')
    report = json.loads((out / 'synthetic_report.json').read_text())
    assert report['filter'] == 'diffult' and 'centre' in \
        report['score_meaning']
    rows = report['classes']
    assert [(r['real'], r['synthetic'], r['kept'], r['dropped'],
             r['flagged']) for r in rows] == [
        (6, 0, 0, 0, 0), (24, 3, 3, 0, 0), (4, 8, 5, 3, 1),
        (12, 12, 12, 0, 0)]
    assert report['counts'] == dict(real=46, synthetic=23, kept=20,
                                    dropped=3, flagged=1)
    # class 3: the synthetic set IS the real set
    same = rows[3]['kept_metrics']
    assert (same['precision'], same['recall']) == (1.0, 1.0)
    assert same['frechet'] < 1e-6 * max(1.0, rows[2]['kept_metrics']
                                        ['frechet'])
    assert same['agreement'] == rows[3]['real_agreement']
    # class 1: 3 images <= k: no precision / recall, but a distance
    assert rows[1]['kept_metrics']['precision'] is None
    assert rows[1]['kept_metrics']['frechet'] is not None
    assert rows[0]['kept_metrics'] == dict(
        precision=None, recall=None, frechet=None, frechet_reliable=None,
        frechet_pca=None, frechet_pca_reliable=None, agreement=None, n=0,
        compared=0)
    # 64-d features: every class is compared on fewer images (unreliable);
    # projected on the default 8 principal directions, class 3 (12 images)
    # is reliable, class 2 (4) is not
    assert (report['feature_dim'], report['pca_dims']) == (64, 8)
    assert [rows[c]['kept_metrics']['frechet_reliable'] for c in (1, 2, 3)] \
        == [False, False, False]
    assert [rows[c]['kept_metrics']['frechet_pca_reliable']
            for c in (1, 2, 3)] == [False, False, True]
    md = (out / 'synthetic_report.md').read_text()
    assert "| recall | n | FD (d = 64) | FD, PCA d' = 8 | agreement |" in md
    row3 = next(ln for ln in md.splitlines() if ln.startswith('| 3 '))
    fd3 = rows[3]['kept_metrics']
    assert (f'| 12 | {fd3["frechet"]:.2f} unreliable (n 12 <= d 64) | '
            f'{fd3["frechet_pca"]:.2f} |') in row3
    assert 'unreliable (n 12 &lt;= d 64)' in (out / 'index.html').read_text()
    assert rows[2]['kept_metrics']['compared'] == 4      # 4 real, 5 kept
    assert rows[2]['score_kept'] == pytest.approx(
        dict(mean=np.mean(kept_scores), min=min(kept_scores)))
    assert rows[2]['score_dropped'] == dict(mean=None, min=None)
    assert rows[2]['all_metrics']['n'] == 8
    md = (out / 'synthetic_report.md').read_text()
    assert all(f'| {c} class_{c} |' in md for c in range(4))
    page = (out / 'index.html').read_text()
    sheets = re.findall(r'<img src="([^"]+)"', page)
    assert len(sheets) == 4
    for rel in sheets:
        with Image.open(out / rel) as img:
            img.load()
            assert img.size[0] > 100


def test_synthetic_sets_read_both_filter_layouts(tmp_path, trained):
    syn = str(tmp_path / 'syn')
    make_diffult_layout(syn, trained['root'])
    a = load_synthetic_set(osp.join(syn, 'manifest.jsonl'))
    b = load_synthetic_set(osp.join(syn, 'manifest_filtered.jsonl'))
    assert a.kept.tolist() == b.kept.tolist() == [True] * 8 + \
        [False] * 3 + [True] * 12
    # text-to-image: scored.jsonl (all, CLIP scores) + manifest.jsonl (kept)
    clip = tmp_path / 'clip'
    recs = [ManifestRecord(path=f'images/{i}.png', label=i % 2, source='sd',
                           score=0.1 * i) for i in range(4)]
    write_manifest(str(clip / 'scored.jsonl'), recs)
    write_manifest(str(clip / 'manifest.jsonl'), recs[2:])
    s = load_synthetic_set(str(clip / 'manifest.jsonl'))
    assert s.filter == 'clip' and s.kept.tolist() == [False, False, True,
                                                       True]
    np.testing.assert_allclose(s.scores, [0, 0.1, 0.2, 0.3])
    plain = load_synthetic_set(str(clip / 'scored.jsonl'))
    assert plain.filter == 'none' and plain.kept.all()
