"""Run tables, figures and the results ledger on FABRICATED work dirs
written in the real on-disk formats (README "Training and testing"):
a finished SAU run with run_info.json and noise flags, an unfinished run,
and a resumed run with two start folders and a torn scalars line."""
import csv
import json
import os
import os.path as osp
import runpy
import shutil
import sys

import numpy as np
import pytest
from PIL import Image

from sau_mm.analysis import compare_runs, load_run
from sau_mm.analysis import figures
from sau_mm.analysis.results_ledger import (END, START, LedgerError,
                                            read_ledger, record_result,
                                            update_readme)
from sau_mm.analysis.run_records import WorkDirError
from sau_mm.analysis.tables import EMPTY_GROUP, shot_groups_at
from sau_mm.engine.hooks.run_info_hook import config_name

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CLASSES = ['airplane', 'automobile', 'bird', 'cat']
COUNTS = [500, 120, 40, 5]

CONFIG = """\
model = dict(type='ImageClassifier',
             backbone=dict(type='ResNet32', base_channels={width}),
             neck=dict(type='GlobalAveragePooling'),
             head=dict(type='LinearClsHead', num_classes=4, in_channels=64))
train_dataloader = dict(batch_size=128, dataset={dataset})
train_cfg = dict(by_epoch=True, max_epochs={epochs}, val_interval=1)
"""
LT = ("dict(type='LongTailSyntheticDataset', data_root='data/cifar10-jpeg', "
      "source='image_folder', imbalance_factor=100{extra})")


def val_metrics(top1):
    """A validation line's lt/* values derived from top-1 (distinct)."""
    return {'lt/top1': top1, 'lt/top5': top1 + 40, 'lt/many': top1 + 10,
            'lt/medium': top1 - 5, 'lt/few': top1 - 20,
            'lt/top1_best': top1}


def write_session(work_dir, ts, *, epochs, evals, per_class_start,
                  span_s, gpu=None, torn=False, terms=('loss', )):
    """One start folder: log (timestamps spanning span_s seconds, the
    environment block), scalars.json (two training lines per epoch, one
    validation line per evaluated epoch, in time order), per-class files
    numbered from per_class_start."""
    folder = osp.join(work_dir, ts)
    os.makedirs(osp.join(folder, 'vis_data'))
    lines = []
    for e in epochs:
        for part in (1, 2):
            it = (e - 1) * 10 + part * 5
            line = {'lr': 0.1, 'epoch': e, 'iter': it, 'step': it,
                    'data_time': 0.01, 'time': 0.2}
            line.update({t: round(10.0 / it + k, 4)
                         for k, t in enumerate(terms)})
            lines.append(json.dumps(line))
        if e in evals:
            lines.append(json.dumps({**val_metrics(evals[e]), 'step': e}))
    text = '\n'.join(lines) + '\n'
    if torn:
        text += '{"lr": 0.1, "epoch": 9'        # killed mid-write
    with open(osp.join(folder, 'vis_data', 'scalars.json'), 'w') as f:
        f.write(text)
    for n, e in enumerate(sorted(evals)):
        with open(osp.join(folder, f'per_class_accuracy_'
                           f'{per_class_start + n}.json'), 'w') as f:
            json.dump({'per_class_top1': [evals[e] + 10 * c
                                          for c in range(4)],
                       'train_class_counts': COUNTS}, f)
    y, mo, d, h, mi, s = ts[:4], ts[4:6], ts[6:8], ts[9:11], ts[11:13], \
        ts[13:15]
    start = int(h) * 3600 + int(mi) * 60 + int(s)
    end = start + span_s
    env = ['    CUDA available: True', f'    GPU 0,1: {gpu}'] if gpu else \
        ['    CUDA available: False']
    log = ([f'{y}/{mo}/{d} {h}:{mi}:{s} - mmengine - INFO - ',
            'System environment:', *env,
            f'{mo}/{d} {h}:{mi}:{s} - mmengine - INFO - Config:',
            f'{mo}/{d} {end // 3600:02d}:{end // 60 % 60:02d}:'
            f'{end % 60:02d} - mmengine - INFO - Epoch(train) [..]'])
    with open(osp.join(folder, f'{ts}.log'), 'w') as f:
        f.write('\n'.join(log) + '\n')


def write_config(work_dir, name, *, epochs, width=16, wrapped=False):
    extra = (", synthetic_manifest='data/synthetic/x/manifest.jsonl'"
             if wrapped else '')
    dataset = LT.format(extra=extra)
    if wrapped:
        dataset = f"dict(type='MixPartnerDataset', dataset={dataset})"
    with open(osp.join(work_dir, f'{name}.py'), 'w') as f:
        f.write(CONFIG.format(width=width, dataset=dataset, epochs=epochs))


def touch(work_dir, *names):
    for n in names:
        open(osp.join(work_dir, n), 'wb').close()


@pytest.fixture(scope='module')
def work_dirs(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('work_dirs'))
    # A: finished SAU run, run_info.json (two starts), noise flags
    a = osp.join(root, 'sau_done')
    os.makedirs(a)
    write_config(a, 'resnet32_cifar10jpeg_lt', epochs=3, width=64,
                 wrapped=True)
    write_session(a, '20260101_100000', epochs=[1, 2, 3],
                  evals={1: 40.0, 2: 55.5, 3: 50.25}, per_class_start=1,
                  span_s=50, terms=('loss', 'loss_cls', 'loss_con'))
    touch(a, 'epoch_3.pth', 'best_lt_top1_epoch_2.pth', 'last_checkpoint')
    session = dict(start='2026-01-01T10:00:00+00:00',
                   commit='0123456789abcdef', dirty=True,
                   device='NVIDIA H100 80GB HBM3', torch='2.13',
                   world_size=1, config='sau/resnet32_cifar10jpeg_lt',
                   max_epochs=3, wall_s=100.5, finished=True)
    with open(osp.join(a, 'run_info.json'), 'w') as f:
        json.dump({'sessions': [dict(session, wall_s=20.0, finished=False),
                                session]}, f)
    os.makedirs(osp.join(a, 'noise_flags'))
    for e in (1, 2, 3):
        with open(osp.join(a, 'noise_flags', f'epoch_{e}.json'), 'w') as f:
            json.dump({'epoch': e,
                       'seen_per_class': dict(zip(CLASSES, [0, 10, 20, 40])),
                       'flagged_per_class': dict(zip(CLASSES,
                                                     [0, e, 2 * e, 3])),
                       'flagged_samples': []}, f)
    # B: unfinished: 10 planned, killed in epoch 4 (checkpoints 2, 3)
    b = osp.join(root, 'ce_unfinished')
    os.makedirs(b)
    write_config(b, 'ce', epochs=10)
    write_session(b, '20260102_080000', epochs=[1, 2, 3, 4],
                  evals={1: 20.0, 2: 30.0, 3: 35.0}, per_class_start=1,
                  span_s=90)
    touch(b, 'epoch_2.pth', 'epoch_3.pth', 'best_lt_top1_epoch_3.pth')
    # C: resumed: start 1 ran epochs 1-3 (torn last line), killed; start 2
    # resumed from epoch 2 (the metric's evaluation count restored: its
    # files are numbered from 3) and finished epochs 3-5.
    c = osp.join(root, 'ce_resumed')
    os.makedirs(c)
    write_config(c, 'ce', epochs=5)
    write_session(c, '20260103_090000', epochs=[1, 2, 3],
                  evals={1: 10.0, 2: 20.0, 3: 25.0}, per_class_start=1,
                  span_s=600, torn=True)
    write_session(c, '20260103_120000', epochs=[3, 4, 5],
                  evals={3: 30.0, 4: 28.0, 5: 29.0}, per_class_start=3,
                  span_s=1200, gpu='NVIDIA H100 80GB HBM3')
    touch(c, 'epoch_5.pth', 'best_lt_top1_epoch_3.pth', 'last_checkpoint')
    return dict(a=a, b=b, c=c)


def test_records_merge_resumed_runs_and_count_unfinished_epochs(work_dirs):
    c = load_run(work_dirs['c'])
    assert {e: v['lt/top1'] for e, v in c.val.items()} == \
        {1: 10.0, 2: 20.0, 3: 30.0, 4: 28.0, 5: 29.0}
    assert c.best_epoch == 3 and c.last_epoch == 5
    # the later start's epoch 3 replaces the earlier one, lines and files
    assert [line['epoch'] for line in c.train_lines] == \
        [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert c.per_class[3]['per_class_top1'] == [30.0, 40.0, 50.0, 60.0]
    assert c.per_class[2]['per_class_top1'] == [20.0, 30.0, 40.0, 50.0]
    assert c.log_wall_s == 600 + 1200 and c.wall_s == 1800
    assert c.device == '2 x NVIDIA H100 80GB HBM3' and c.commit is None
    assert c.done == 5 and c.finished
    b = load_run(work_dirs['b'])
    assert (b.done, b.planned, b.finished) == (3, 10, False)
    assert b.device == 'CPU'


def test_table_numbers_equal_the_work_dirs(work_dirs, tmp_path, capsys,
                                           monkeypatch):
    out = str(tmp_path / 'cmp')
    monkeypatch.setattr(sys, 'argv', [
        'compare_runs.py', work_dirs['a'], work_dirs['b'], work_dirs['c'],
        '--out', out])
    runpy.run_path(osp.join(ROOT, 'tools/analysis/compare_runs.py'),
                   run_name='__main__')
    printed = capsys.readouterr().out
    with open(osp.join(out, 'runs.md')) as f:
        assert f.read() == printed
    rows = {}
    for line in printed.splitlines()[2:]:
        cells = [x.strip() for x in line.split('|')[1:-1]]
        rows[cells[0]] = cells
    assert rows['sau_done'] == [
        'sau_done', 'sau/resnet32_cifar10jpeg_lt', 'ResNet32 (64/128/256)',
        'cifar10-jpeg + synthetic', '100', '3/3 epochs', '50.25',
        '55.50 (2)', '95.50', '65.50', '50.50', '35.50', '2m 00s',
        'NVIDIA H100 80GB HBM3', '0123456789+dirty']
    assert rows['ce_unfinished'][1:] == [
        'ce', 'ResNet32 (16/32/64)', 'cifar10-jpeg', '100',
        'unfinished (3/10 epochs)', '35.00', '35.00 (3)', '75.00', '45.00',
        '30.00', '15.00', '1m 30s', 'CPU', '-']
    assert rows['ce_resumed'][5:9] == ['5/5 epochs', '29.00', '30.00 (3)',
                                       '70.00']
    assert rows['ce_resumed'][12:14] == ['30m 00s',
                                         '2 x NVIDIA H100 80GB HBM3']
    with open(osp.join(out, 'runs.json')) as f:
        data = json.load(f)
    assert data == compare_runs([work_dirs['a'], work_dirs['b'],
                                 work_dirs['c']])
    assert data[0]['top1_best'] == 55.5 and data[0]['wall_s'] == 120.5
    with open(osp.join(out, 'runs.csv')) as f:
        table = list(csv.DictReader(f))
    assert [float(r['top1_best']) for r in table] == [55.5, 35.0, 30.0]
    assert [r['status'] for r in table] == [
        'finished', 'unfinished (3/10 epochs)', 'finished']


def png(path):
    with Image.open(path) as img:
        img.load()
        return img.size, np.asarray(img.convert('L'))


def test_figures_are_written_decodable_and_of_the_expected_size(
        work_dirs, tmp_path):
    records = [load_run(work_dirs[k]) for k in 'abc']
    paths = figures.comparison_figures(records, str(tmp_path))
    d = figures.DPI
    expected = {
        'per_class_vs_count': figures.PER_CLASS_SIZE,
        'shot_groups': figures.SHOT_GROUPS_SIZE,
        # loss, loss_cls, loss_con + top-1: 4 panels, 3 columns, 2 rows
        'learning_curves': (figures.CURVE_PANEL[0] * 3,
                            figures.CURVE_PANEL[1] * 2),
        'noise_flags_sau_done': figures.NOISE_SIZE}
    assert set(paths) == set(expected)
    for name, (w, h) in expected.items():
        size, pixels = png(paths[name])
        assert size == (round(w * d), round(h * d)), name
        assert pixels.std() > 5, f'{name} looks blank'


def test_noise_fractions_are_flagged_over_seen(work_dirs):
    epochs, classes, frac = figures.noise_fraction_matrix(
        load_run(work_dirs['a']))
    assert epochs == [1, 2, 3] and classes == CLASSES
    assert np.isnan(frac[0]).all()          # no synthetic sample seen
    np.testing.assert_allclose(frac[1:], [[e / 10 for e in (1, 2, 3)],
                                          [2 * e / 20 for e in (1, 2, 3)],
                                          [3 / 40] * 3])


def test_an_empty_shot_group_says_so(work_dirs):
    rec = load_run(work_dirs['b'])
    del rec.val[3]['lt/few']               # logged as text, not a scalar
    assert shot_groups_at(rec, 3, None)['few'] is None   # class 3 is few
    rec.per_class[3]['train_class_counts'] = [500, 120, 40, 30]
    assert shot_groups_at(rec, 3, None) == dict(many=45.0, medium=30.0,
                                                few=EMPTY_GROUP)
    # the dataset's thresholds decide: with few_below=50, class 40 is few
    ds = dict(shot_thresholds=dict(many_above=100, few_below=50))
    assert shot_groups_at(rec, 3, ds)['few'] is None


def test_bad_work_dir_is_named(tmp_path):
    with pytest.raises(WorkDirError, match='not a training work dir'):
        load_run(str(tmp_path))
    with pytest.raises(WorkDirError, match='no such folder'):
        load_run(str(tmp_path / 'missing'))


def test_config_name_is_relative_to_configs():
    assert config_name('/x/configs/baselines/r32/ce.py') == 'baselines/r32/ce'
    assert config_name('/tmp/my.py') == 'my'


def _variant(src, dst, **session_changes):
    """A copy of work dir ``src`` whose run_info.json sessions get
    ``session_changes``."""
    shutil.copytree(src, dst)
    path = osp.join(dst, 'run_info.json')
    with open(path) as f:
        info = json.load(f)
    for session in info['sessions']:
        session.update(session_changes)
    with open(path, 'w') as f:
        json.dump(info, f)
    return dst


def _fake_repo(root, configs):
    """A repository root whose configs/<name>.py plan ``max_epochs``."""
    for name, epochs in configs.items():
        path = osp.join(root, 'configs', name + '.py')
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(f'train_cfg = dict(max_epochs={epochs})\n')
    return root


def test_ledger_refuses_dirty_and_shortened_runs(work_dirs, tmp_path):
    results = str(tmp_path / 'results')
    # A's starts ran from a tree with uncommitted changes
    with pytest.raises(LedgerError, match=r'uncommitted changes \(\+dirty\)'):
        record_result(work_dirs['a'], results, ROOT)
    # clean, but 3 of the 200 epochs of configs/sau/...: a smoke check
    clean = _variant(work_dirs['a'], str(tmp_path / 'clean'), dirty=False)
    with pytest.raises(LedgerError, match='planned 3 of the 200 epochs.*'
                       'smoke check'):
        record_result(clean, results, ROOT)
    assert not osp.exists(results)


def test_ledger_records_finished_runs_and_renders_the_readme(work_dirs,
                                                             tmp_path):
    results = str(tmp_path / 'results')
    repo = _fake_repo(str(tmp_path / 'repo'), {
        'sau/resnet32_cifar10jpeg_lt': 3, 'experiments/noise/sau': 3})
    a = _variant(work_dirs['a'], str(tmp_path / 'sau_done'), dirty=False)
    reduced = _variant(work_dirs['a'], str(tmp_path / 'sau_reduced'),
                       dirty=False, config='experiments/noise/sau')
    with pytest.raises(LedgerError, match='unfinished'):
        record_result(work_dirs['b'], results, repo)
    path_a = record_result(a, results, repo)
    record_result(work_dirs['b'], results, repo, allow_unfinished=True)
    record_result(reduced, results, repo)
    with open(osp.join(results, 'gpu_check.json'), 'w') as f:
        json.dump({'steps': [], 'device': 'H100'}, f)   # not a run record
    with open(path_a) as f:
        rec_a = json.load(f)
    assert rec_a['kind'] == 'run' and rec_a['device_class'] == 'gpu'
    assert rec_a['commit'] == '0123456789'
    # the config file's own schedule
    assert rec_a['schedule'] == dict(unit='epoch', done=3, planned=3,
                                     finished=True, config_planned=3)
    assert rec_a['metrics']['top1_best'] == 55.5
    assert rec_a['precision'] == 'fp32'
    # per-class top-1 of the best (epoch 2) and last (epoch 3) evaluations
    assert rec_a['per_class'] == dict(
        train_class_counts=COUNTS, top1_best=[55.5, 65.5, 75.5, 85.5],
        top1_last=[50.25, 60.25, 70.25, 80.25])
    assert rec_a['synthetic'] == {
        'manifest': 'data/synthetic/x/manifest.jsonl', 'drawn': None}
    assert sorted(r['run'] for r in read_ledger(results)) == [
        'ce_unfinished', 'sau_done', 'sau_reduced']
    readme = tmp_path / 'README.md'
    readme.write_text(f'# x\n\nbefore\n{START}\nSTALE TABLE\n{END}\nafter\n')
    assert update_readme(str(readme), results) == 3
    text = readme.read_text()
    assert text.startswith('# x\n\nbefore\n') and text.endswith(
        f'{END}\nafter\n') and 'STALE TABLE' not in text
    gpu, cpu, exp = (text.index('**GPU runs**'), text.index('**CPU runs**'),
                     text.index('**Experiments**'))
    assert gpu < cpu < exp
    assert text.index('`sau/resnet32_cifar10jpeg_lt`') in range(gpu, cpu)
    assert text.index('unfinished (3/10 epochs)') in range(cpu, exp)
    assert text.index('`experiments/noise/sau`') > exp
    assert '+dirty' not in text
    assert '| precision |' in text and '| fp32 |' in text
    # the run (work dir name) tells two runs of one config apart
    assert '| config | run |' in text and '| sau_reduced |' in text
    update_readme(str(readme), results)
    assert readme.read_text() == text      # idempotent
    readme.write_text('no markers\n')
    with pytest.raises(LedgerError, match='results:start'):
        update_readme(str(readme), results)


def test_ledger_counts_the_planted_records_of_a_manifest(tmp_path):
    from sau_mm.analysis.results_ledger import _synthetic, _synthetic_text
    manifest = tmp_path / 'manifest.jsonl'
    rows = [dict(path=f'{i}.png', label=i % 2, source='oracle',
                 planted=kind)
            for i, kind in enumerate([None, 'off_class', 'degraded',
                                      'off_class', None])]
    manifest.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    syn = _synthetic(str(manifest), None)
    assert syn['images'] == 5 and syn['sources'] == {'oracle': 5}
    assert syn['planted'] == {'off_class': 2, 'degraded': 1}
    assert _synthetic_text(dict(synthetic=syn)) == (
        'oracle 5 (planted: degraded 1, off_class 2)')
    rows = [dict(r, planted=None) for r in rows]
    manifest.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    assert 'planted' not in _synthetic(str(manifest), None)


def test_the_ledger_shows_the_synthetic_images_a_run_drew(tmp_path,
                                                          monkeypatch):
    """A manifest with more records than the fill needs (3 per class, the
    fill draws 4 + 2): the training set's summary line, as a start folder's
    log holds it, gives the images drawn, shown beside the manifest's."""
    from mmpretrain.registry import DATASETS

    import sau_mm.datasets.lt_synthetic_dataset as lt
    from sau_mm.analysis.results_ledger import _synthetic, _synthetic_text
    from sau_mm.analysis.run_records import _log_facts
    from tests.support.data import make_image_folder, make_synthetic_manifest
    logged = []
    monkeypatch.setattr(lt, 'print_log', lambda msg, **kw: logged.append(msg))
    root = make_image_folder(str(tmp_path / 'data'), [6, 2, 4])
    make_image_folder(root, [2, 2, 2], split='test')
    manifest = make_synthetic_manifest(str(tmp_path / 'syn'), [3, 6, 3])
    for split in ('test', 'train'):   # the test set's line comes first
        DATASETS.build(dict(type='LongTailSyntheticDataset', data_root=root,
                            source='image_folder', split=split,
                            synthetic_manifest=manifest if split == 'train'
                            else None, test_mode=split == 'test',
                            pipeline=[]))
    log = tmp_path / '20260101_100000.log'
    log.write_text(''.join(f'2026/01/01 10:00:0{n} - mmengine - INFO - {m}\n'
                           for n, m in enumerate(logged)))
    span, device, images = _log_facts(str(log), '20260101_100000')
    assert images == (12, 6)
    syn = _synthetic(manifest, images[1])
    assert (syn['images'], syn['drawn']) == (12, 6)
    assert _synthetic_text(dict(synthetic=syn)) == \
        '6 drawn of test-generator 12'
    assert _synthetic_text(dict(synthetic=dict(syn, drawn=12))) == \
        'test-generator 12'


def test_ledger_figure_draws_the_recorded_per_class_accuracy(tmp_path,
                                                             monkeypatch):
    """Ledger records alone (no work dir) give the per-class figure: the
    recorded counts and accuracies of the chosen evaluation, one line per
    record; a record without per-class accuracy is named."""
    from sau_mm.analysis import results_ledger
    from sau_mm.analysis.results_ledger import per_class_figure

    def record(run, best, last):
        path = tmp_path / f'{run}.json'
        path.write_text(json.dumps(dict(
            kind='run', run=run,
            metrics=dict(top1_best=sum(best) / 3, top1_best_epoch=7,
                         top1_last=sum(last) / 3, top1_last_epoch=9),
            per_class=dict(train_class_counts=[90, 30, 10], top1_best=best,
                           top1_last=last))))
        return str(path)

    a = record('ce', [90.0, 60.0, 30.0], [88.0, 58.0, 27.0])
    b = record('sau', [80.0, 70.0, 66.0], [79.0, 71.0, 63.0])
    drawn = []
    monkeypatch.setattr(results_ledger, 'per_class_curves',
                        lambda series, out, title: drawn.append(series))
    per_class_figure([a, b], 'x.png', at='last')
    assert drawn[-1] == [
        ('ce: top-1 57.67 (epoch 9)', [90, 30, 10], [88.0, 58.0, 27.0]),
        ('sau: top-1 71.00 (epoch 9)', [90, 30, 10], [79.0, 71.0, 63.0])]
    per_class_figure([b], 'x.png', labels=['SAU, clean'])
    assert drawn[-1] == [('SAU, clean: top-1 72.00 (epoch 7)',
                          [90, 30, 10], [80.0, 70.0, 66.0])]
    monkeypatch.undo()
    out = per_class_figure([a, b], str(tmp_path / 'f.png'))
    d = figures.DPI
    assert png(out)[0] == (figures.PER_CLASS_SIZE[0] * d,
                           figures.PER_CLASS_SIZE[1] * d)
    old = tmp_path / 'old.json'
    old.write_text(json.dumps(dict(kind='run', run='old', per_class=None,
                                   metrics={})))
    with pytest.raises(LedgerError, match=r'old\.json holds no per-class'):
        per_class_figure([a, str(old)], str(tmp_path / 'g.png'))
    gpu = tmp_path / 'gpu_check.json'
    gpu.write_text(json.dumps({'steps': []}))
    with pytest.raises(LedgerError, match=r'gpu_check\.json is not a run '
                       'record'):
        per_class_figure([a, str(gpu)], str(tmp_path / 'g.png'))
    with pytest.raises(LedgerError, match=r'missing\.json: cannot be read'):
        per_class_figure([str(tmp_path / 'missing.json')],
                         str(tmp_path / 'g.png'))
    with pytest.raises(LedgerError, match='2 labels for 1 records'):
        per_class_figure([a], str(tmp_path / 'g.png'), labels=['x', 'y'])


def test_ledger_precision_comes_from_the_dumped_config():
    """--amp's BF16AutocastOptimWrapper reads 'bf16 autocast', MMEngine's
    AmpOptimWrapper 'fp16 amp', the plain wrapper 'fp32'; a record older
    than the field falls back to its command line."""
    from mmengine.config import Config

    from sau_mm.analysis.results_ledger import _precision, _precision_text
    sgd = dict(type='SGD', lr=0.1)
    assert _precision(Config(dict(optim_wrapper=dict(
        type='BF16AutocastOptimWrapper', optimizer=sgd)))) == 'bf16 autocast'
    assert _precision(Config(dict(optim_wrapper=dict(
        type='AmpOptimWrapper', optimizer=sgd)))) == 'fp16 amp'
    assert _precision(Config(dict(optim_wrapper=dict(optimizer=sgd)))) == \
        'fp32'
    assert _precision_text(dict(precision='fp32',
                                command='tools/train.py c.py --amp')) == 'fp32'
    assert _precision_text(dict(command='tools/train.py c.py --amp')) == \
        'bf16 autocast'
    assert _precision_text(dict(command='tools/train.py c.py')) == 'fp32'
    assert _precision_text(dict(command=None)) == '-'
