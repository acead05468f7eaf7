"""The pipeline (tools/run_pipeline.py, sau_mm.pipeline): the tiny preset end
to end on the real CIFAR-10 (JPEG) data (and what its DiffuLT stages wrote),
the exact commands of a dry run (modules of the package, which run with
the package alone), SIGKILL at random points of three stages
then a rerun that gives the uninterrupted run's table, manifest and weights,
a changed config reported, --from / --until, and the pieces (option
formatting, progress lines, config errors, the image-folder subset)."""
import hashlib
import importlib
import importlib.util
import json
import math
import os
import os.path as osp
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
import torch

import sau_mm
from sau_mm.datasets.folder_subset import subset_image_folder
from sau_mm.datasets.manifest import read_manifest, resolve_path
from sau_mm.pipeline import (EXIT_CHANGED, PipelineConfigError, build_stages,
                             load_pipeline, run_pipeline)
from sau_mm.pipeline.progress import ProgressReader, TrainingProgress
from sau_mm.pipeline.stages import STAGE_TYPES, format_value, read_back

from tests.support.data import make_image_folder

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY = 'configs/pipelines/diffult_sau_tiny.py'
REAL = 'configs/pipelines/diffult_sau_cifar10jpeg_lt.py'
T2I = 'configs/pipelines/t2i_sau_cifar10jpeg_lt.py'
TINY_STAGES = ['prepare_data', 'train_generator', 'sample', 'train_ce',
               'filter', 'train_sau', 'train_ce_diffult', 'compare',
               'synthetic_report']
RUNS = ['train_ce', 'train_sau', 'train_ce_diffult']
# the weights of the stages up to the filter (the killed test's last stage)
CHECKPOINTS = ['train_generator/iter_8.pth', 'train_ce/epoch_2.pth']
# One thread per stage process: the tiny stages are mostly process start-up,
# and two threads per process on a shared 2-core machine run several times
# slower than one.
ENV = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')


def pipeline_cmd(work, source, *extra):
    return [sys.executable, 'tools/run_pipeline.py', TINY, '--work-dir',
            work, '--cfg-options', f'dataset.subset.source={source}'] + list(
                extra)


def run(cmd, timeout=600):
    result = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True,
                            text=True, timeout=timeout)
    return result.returncode, result.stdout + result.stderr


def in_process(config, work, *, out=None, cfg_options=None, **kwargs):
    """run_pipeline in this process (plans, dry runs, refused runs)."""
    lines = [] if out is None else out
    pipeline = load_pipeline(config, cfg_options, work)
    code = run_pipeline(pipeline, build_stages(pipeline), out=lines.append,
                        **kwargs)
    return code, lines


def sha(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def table_numbers(work):
    """The comparison table's rows without what differs between two
    identical runs (paths, wall time)."""
    with open(osp.join(work, 'compare', 'runs.json')) as f:
        rows = json.load(f)
    keys = ('run', 'method', 'status', 'done', 'planned', 'top1_last',
            'top1_best', 'top1_best_epoch', 'top5', 'many', 'medium', 'few')
    return [{k: row.get(k) for k in keys} for row in rows]


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory, cifar10_jpeg_root):
    """One uninterrupted run of the tiny preset, shared by the tests."""
    work = str(tmp_path_factory.mktemp('pipeline') / 'tiny')
    t0 = time.monotonic()
    code, output = run(pipeline_cmd(work, cifar10_jpeg_root))
    assert code == 0, output[-4000:]
    print(f'tiny pipeline: {time.monotonic() - t0:.0f} s')
    return dict(work=work, output=output, source=cifar10_jpeg_root)


@pytest.mark.slow
def test_tiny_pipeline_runs_end_to_end(tiny_run):
    work, output = tiny_run['work'], tiny_run['output']
    lines = output.splitlines()
    # the plan first: every stage numbered, with its command
    plan = [i for i, line in enumerate(lines) if ' [todo]' in line]
    assert [lines[i].split()[1] for i in plan] == TINY_STAGES
    assert plan[-1] < lines.index(
        'stage 1/9 prepare_data: running (log: '
        f'{work}/logs/prepare_data.log)')
    # progress a person can follow
    assert 'stage 2/9 train_generator: iteration 8/8, ETA 0:00:00' in lines
    assert any(line.startswith('stage 4/9 train_ce: epoch 2/2, ETA ')
               for line in lines)
    assert any(line.startswith('stage 4/9 train_ce: epoch 2/2 evaluated: '
                               'top-1 ') for line in lines)
    # the final table: one row per trained run, in results.md
    with open(osp.join(work, 'results.md')) as f:
        results = f.read()
    assert results.rstrip() in output
    table = results.split('## Files')[0]
    rows = [line for line in table.splitlines() if line.startswith('| train_')]
    assert [r.split('|')[1].strip() for r in rows] == RUNS
    assert [r['status'] for r in table_numbers(work)] == ['finished'] * 3
    # the filtered manifest is complete: every image on disk, the report's
    # count, the images of the sample manifest
    filtered = osp.join(work, 'sample', 'manifest_filtered.jsonl')
    kept = read_manifest(filtered)
    with open(osp.join(work, 'sample',
                       'manifest_filtered.report.json')) as f:
        report = json.load(f)
    assert report['kept'] == len(kept) > 0
    sampled = read_manifest(osp.join(work, 'sample', 'manifest.jsonl'))
    assert report['sampled'] == len(sampled)
    assert all(osp.isfile(resolve_path(filtered, r)) for r in kept)
    # IF 10 on 20 per class: n_c = int(20 * 10^(-c/9)); filled to 20, x1.5
    real = [int(20 * 10 ** (-c / 9)) for c in range(10)]
    assert [r['real'] for r in report['per_class']] == real
    assert len(sampled) == sum(-(-3 * (20 - n) // 2) for n in real)
    with open(osp.join(work, 'pipeline_state.json')) as f:
        state = json.load(f)['stages']
    assert {k: v['status'] for k, v in state.items()} == dict.fromkeys(
        TINY_STAGES, 'done')
    assert osp.isfile(osp.join(work, 'synthetic_report', 'index.html'))


@pytest.mark.slow
def test_the_diffult_stages_sample_filter_and_train_on_the_manifest(
        tiny_run):
    """DiffuLT end to end, read from the tiny run: the generator trained
    (sau_mm.cli.train), the complement sampled (sau_mm.cli.diffult_sample),
    filtered with the CE classifier of the real data
    (sau_mm.cli.diffult_filter), CE with the synthetic-weighted head trained
    on the filtered manifest (sau_mm.cli.train)."""
    work = tiny_run['work']
    real = [int(20 * 10 ** (-c / 9)) for c in range(10)]
    records = read_manifest(osp.join(work, 'sample', 'manifest.jsonl'))
    planned = [math.ceil(1.5 * (20 - n)) for n in real]
    assert Counter(r.label for r in records) == {
        c: n for c, n in enumerate(planned) if n}
    filtered = osp.join(work, 'sample', 'manifest_filtered.jsonl')
    with open(osp.join(work, 'sample', 'manifest_filtered.report.json')) as f:
        report = json.load(f)
    kept = read_manifest(filtered)
    assert report['sampled'] == len(records) and report['kept'] == len(kept)
    assert [r['real'] for r in report['per_class']] == real
    assert all(r['kept'] + r['dropped'] == r['sampled']
               for r in report['per_class'])
    assert osp.isfile(osp.join(work, 'sample',
                               'manifest_filtered.report.log'))
    for c in range(10):  # best first within each class
        scores = [r.score for r in kept if r.label == c]
        assert scores == sorted(scores, reverse=True)
    assert all(osp.isfile(resolve_path(filtered, r)) for r in kept)
    with open(osp.join(work, 'logs', 'train_ce_diffult.log')) as f:
        log = f.read()
    synthetic = sum(min(r['kept'], r['needed'])
                    for r in report['per_class'])
    assert f'{sum(real)} real + {synthetic} synthetic images' in log
    assert 'loss:' in log


@pytest.mark.slow
def test_a_rerun_skips_every_finished_stage(tiny_run, monkeypatch):
    monkeypatch.chdir(ROOT)
    work = tiny_run['work']
    logs = {f: osp.getsize(osp.join(work, 'logs', f))
            for f in os.listdir(osp.join(work, 'logs'))}
    code, lines = in_process(TINY, work, cfg_options={
        'dataset.subset.source': tiny_run['source']})
    assert code == 0
    assert [line.split()[1:3] for line in lines[1:28:3]] == [
        [name, '[done]'] for name in TINY_STAGES]
    assert 'Pipeline diffult_sau_tiny: 0 stage(s) run, 9 already done' in \
        '\n'.join(lines)
    assert logs == {f: osp.getsize(osp.join(work, 'logs', f))
                    for f in os.listdir(osp.join(work, 'logs'))}


@pytest.mark.slow
def test_a_changed_config_is_reported_and_nothing_runs(tiny_run,
                                                       monkeypatch):
    monkeypatch.chdir(ROOT)
    work = tiny_run['work']
    with open(osp.join(work, 'pipeline_state.json')) as f:
        before = f.read()
    filtered = sha(osp.join(work, 'sample', 'manifest_filtered.jsonl'))
    code, lines = in_process(TINY, work, cfg_options={
        'dataset.subset.source': tiny_run['source'],
        'stages.filter.quantile': 0.3})
    assert code == EXIT_CHANGED
    assert lines[-1] == ('config changed for stage filter since it finished '
                         '(its command); rerun with --from filter')
    assert ' 5/9 filter [changed] (since it finished: its command)' in lines
    with open(osp.join(work, 'pipeline_state.json')) as f:
        assert f.read() == before
    assert sha(osp.join(work, 'sample',
                        'manifest_filtered.jsonl')) == filtered
    assert not any('running' in line for line in lines)


@pytest.mark.slow
def test_killed_runs_resume_to_the_uninterrupted_results(tiny_run,
                                                         tmp_path,
                                                         monkeypatch):
    """SIGKILL the pipeline's process group at random points of three
    stages, each rerun resuming the killed one; the last rerun (--until
    filter, the last stage killed) ends with the uninterrupted run's
    manifests, filter report and weights. The stages after it read only
    those files, so what they would give follows from them (each trainer's
    own resume test covers a kill inside it)."""
    work, source = str(tmp_path / 'killed'), tiny_run['source']
    seed = int(os.environ.get('PIPELINE_KILL_SEED', time.time()))
    rng = random.Random(seed)
    print(f'kill points drawn with seed {seed} (PIPELINE_KILL_SEED)')

    def count_images():
        folder = osp.join(work, 'sample', 'images')
        return sum(len(files) for _, _, files in os.walk(folder))

    # One kill per way a stage comes back (train_ce would resume as
    # train_generator does): stage, when it is far enough to resume from,
    # when it is still surely unfinished (killed then at the latest), the
    # longest extra delay.
    kills = [
        # a training stage (8 iterations, a checkpoint every 2):
        # sau_mm.cli.train --resume from its checkpoint
        ('train_generator',
         lambda: osp.isfile(osp.join(work, 'train_generator', 'iter_2.pth')),
         lambda: osp.isfile(osp.join(work, 'train_generator', 'iter_4.pth')),
         1.5),
        # sampling (186 images in batches of 64): the images on disk are
        # kept, the rest generated
        ('sample', lambda: count_images() >= 20,
         lambda: count_images() >= 100, 1.0),
        # a stage without resume (its ~15 s outlast the 4 s): run again
        # from the start
        ('filter', lambda: True, lambda: False, 4.0),
    ]
    killed, outputs = [], []
    cmd = pipeline_cmd(work, source, '--until', 'filter')
    for target, ready, latest, spread in kills:
        stage, output = run_and_kill(cmd, target, ready, latest,
                                     rng.uniform(0, spread))
        killed.append(stage)
        outputs.append(output)
    # the last rerun in this process (as the tool runs it; one start fewer)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv('OMP_NUM_THREADS', '1')  # as the killed runs had
    code, lines = in_process(TINY, work, until='filter', cfg_options={
        'dataset.subset.source': source})
    assert code == 0, '\n'.join(lines[-30:])
    outputs.append('\n'.join(lines))
    print('killed in', killed)
    assert len(set(killed)) >= 3, killed
    # each rerun found the killed stage interrupted and went on with it
    for stage, after in zip(killed, outputs[1:]):
        index = TINY_STAGES.index(stage) + 1
        line = [x for x in after.splitlines()
                if x.startswith(f'{index:>2}/9 {stage} [')][0]
        assert '[resume]' in line or '[todo]' in line, line
    resumed = [x for x in '\n'.join(outputs[1:]).splitlines()
               if ': resuming' in x]
    assert any('train_generator' in x for x in resumed), resumed
    # same manifests, filter report and weights as the uninterrupted run
    ref = tiny_run['work']
    for name in ('sample/manifest.jsonl', 'sample/manifest_filtered.jsonl'):
        assert sha(osp.join(work, name)) == sha(osp.join(ref, name)), name
    reports = []
    for folder in (work, ref):
        with open(osp.join(folder, 'sample',
                           'manifest_filtered.report.json')) as f:
            report = json.load(f)
        for key in ('manifest', 'output', 'classifier'):  # their paths
            assert report.pop(key).startswith(folder)
        reports.append(report)
    assert reports[0] == reports[1]
    for name in CHECKPOINTS:
        a = torch.load(osp.join(work, name), weights_only=False)
        b = torch.load(osp.join(ref, name), weights_only=False)
        assert all(torch.equal(a['state_dict'][k], b['state_dict'][k])
                   for k in b['state_dict']), name


def run_and_kill(cmd, target, ready, latest, delay):
    """Start the pipeline in its own process group; once stage ``target``
    runs and ``ready()`` holds, wait ``delay`` s or until ``latest()`` holds,
    whichever comes first, and SIGKILL the group. Returns (the stage that was
    running, the output)."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines = []

    def read():
        for line in proc.stdout:
            lines.append(line)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 300
    try:
        while not any(f' {target}: r' in x for x in list(lines)) or \
                not ready():
            assert proc.poll() is None, (
                f'the pipeline ended before stage {target} could be '
                'killed:\n' + ''.join(lines)[-3000:])
            assert time.monotonic() < deadline, ''.join(lines)[-3000:]
            time.sleep(0.05)
        kill_at = time.monotonic() + delay
        while time.monotonic() < kill_at and not latest():
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        reader.join(5)
    started = [x.split()[2].rstrip(':') for x in lines
               if x.startswith('stage ') and (': running' in x
                                              or ': resuming' in x)]
    return started[-1], ''.join(lines)


@pytest.mark.slow
def test_from_reruns_a_stage_from_scratch_and_until_stops(tiny_run,
                                                          monkeypatch):
    """--from filter --until filter (run_pipeline in this process, as the
    tool calls it): the old outputs moved aside, the filter
    rerun (the same manifest: it is deterministic), nothing after it run;
    the next plain run has nothing to do. Last: it reruns a stage of the
    shared run."""
    monkeypatch.chdir(ROOT)
    work, source = tiny_run['work'], tiny_run['source']
    before = sha(osp.join(work, 'sample', 'manifest_filtered.jsonl'))
    code, lines = in_process(TINY, work, cfg_options={
        'dataset.subset.source': source}, start='filter', until='filter')
    assert code == 0, '\n'.join(lines[-30:])
    assert ' 5/9 filter [rerun]' in lines
    assert ' 6/9 train_sau [rerun, not in this run]' in lines
    assert ('Stopped after filter (--until); not run: train_sau, '
            'train_ce_diffult, compare, synthetic_report.') in lines
    moved = [x for x in lines if x.strip().startswith('moved ')]
    assert len(moved) == 3 and all(f'{work}/replaced/' in x for x in moved)
    assert [x.split()[2] for x in lines if ': running' in x] == ['filter:']
    assert sha(osp.join(work, 'sample', 'manifest_filtered.jsonl')) == before
    code, lines = in_process(TINY, work, cfg_options={
        'dataset.subset.source': source}, dry_run=True)
    assert code == 0 and all('[done]' in x for x in lines[1:28:3])


def test_dry_run_prints_the_exact_commands_and_runs_nothing(tmp_path,
                                                            monkeypatch):
    monkeypatch.chdir(ROOT)
    W = 'work_dirs/pipelines/diffult_sau_cifar10jpeg_lt'
    code, lines = in_process(REAL, None, dry_run=True)
    assert code == 0 and lines[-1] == 'Dry run: nothing was run.'
    commands = [x.strip() for x in lines[2::3]]
    manifest = f'{W}/sample/manifest_filtered.jsonl'
    data = (f'train_dataloader.dataset.allow_partial_fill=True '
            f'train_dataloader.dataset.synthetic_manifest={manifest}')
    assert commands == [
        f'python -m sau_mm.cli.train configs/diffult/ddpm_cifar10jpeg_lt.py '
        f'--work-dir {W}/train_generator --amp',
        'python -m sau_mm.cli.diffult_sample configs/diffult/ddpm_cifar10'
        f'jpeg_lt.py {W}/train_generator/iter_300000.pth --out-dir {W}/sample '
        '--oversample 1.5 --guidance 0.8 --scheduler ddim --steps 100',
        'python -m sau_mm.cli.train configs/baselines/resnet32_cifar10jpeg_lt/'
        f'ce.py --work-dir {W}/train_ce',
        f'python -m sau_mm.cli.diffult_filter {W}/sample/manifest.jsonl '
        'configs/baselines/resnet32_cifar10jpeg_lt/ce.py '
        f'{W}/train_ce/epoch_200.pth --rule centroid --quantile 0.1',
        'python -m sau_mm.cli.train configs/sau/resnet32_cifar10jpeg_lt.py '
        f'--work-dir {W}/train_sau --cfg-options '
        'train_dataloader.dataset.dataset.allow_partial_fill=True '
        f'train_dataloader.dataset.dataset.synthetic_manifest={manifest}',
        'python -m sau_mm.cli.train configs/diffult/ce_resnet32_cifar10jpeg_'
        f'lt_diffult.py --work-dir {W}/train_ce_diffult --cfg-options '
        f'train_dataloader.dataset.synthetic_manifest={manifest}',
        'python -m sau_mm.cli.train configs/glag/resnet32_cifar10jpeg_lt_stage'
        f'1.py --work-dir {W}/train_glag_stage1 --cfg-options {data}',
        'python -m sau_mm.cli.train configs/glag/resnet32_cifar10jpeg_lt_stage'
        f'2.py --work-dir {W}/train_glag_stage2 --cfg-options {data} '
        f'load_from={W}/train_glag_stage1/epoch_200.pth',
        f'python -m sau_mm.cli.compare_runs {W}/train_ce {W}/train_sau '
        f'{W}/train_ce_diffult {W}/train_glag_stage2 --out {W}/compare',
        f'python -m sau_mm.cli.synthetic_report {manifest} '
        'configs/baselines/resnet32_cifar10jpeg_lt/ce.py '
        'configs/baselines/resnet32_cifar10jpeg_lt/ce.py '
        f'{W}/train_ce/epoch_200.pth --out {W}/synthetic_report '
        f'--noise-flags {W}/train_sau/noise_flags/epoch_200.json',
    ]
    # the tiny preset: the data subset first, every dataset pointed at it
    work = str(tmp_path / 'tiny')
    code, lines = in_process(TINY, work, dry_run=True)
    commands = [x.strip() for x in lines[2::3]]
    assert commands[0] == (
        'python -m sau_mm.cli.subset_image_folder data/cifar10-jpeg '
        f'{work}/prepare_data --per-class train=20 test=10')
    assert f'train_dataloader.dataset.dataset.data_root={work}/prepare_data' \
        in commands[5] and f'val_dataloader.dataset.data_root={work}/' \
        'prepare_data' in commands[5]
    assert "'model.unet.block_out_channels=(16,32)'" in commands[1]
    assert not osp.exists(work)
    # text to image: the generator's stages share the plan stage's folder
    W = 'work_dirs/pipelines/t2i_sau_cifar10jpeg_lt'
    code, lines = in_process(T2I, None, dry_run=True)
    commands = [x.strip() for x in lines[2::3]]
    assert commands[:4] == [
        'python -m sau_mm.cli.generate_synthetic plan configs/sau/resnet32_'
        f'cifar10jpeg_lt.py --out-dir {W}/plan --oversample 1.5',
        f'python -m sau_mm.cli.generate_synthetic prompts --out-dir {W}/plan '
        '--mode basic',
        f'python -m sau_mm.cli.generate_synthetic generate --out-dir {W}/plan '
        '--pipeline-dir /models/sd-turbo --steps 4 --guidance 0.0 '
        '--batch-size 64',
        f'python -m sau_mm.cli.generate_synthetic filter --out-dir {W}/plan '
        '--clip-model ViT-B-32 --clip-checkpoint '
        '/models/open_clip_vit_b32.bin --keep-fraction 0.67']
    assert commands[5].endswith('train_dataloader.dataset.dataset.'
                                f'synthetic_manifest={W}/plan/manifest.jsonl')



def test_every_stage_runs_a_module_of_the_installed_package(tmp_path,
                                                            monkeypatch):
    """Every stage type's command (the presets use them all) is ``python -m
    sau_mm.cli.<tool>``: no path into the repository's tools/ or package,
    the module part of the sau_mm package (what an install copies), with a
    main."""
    monkeypatch.chdir(ROOT)
    package = osp.dirname(osp.abspath(sau_mm.__file__))
    repo_code = (osp.join(ROOT, 'tools') + os.sep, package + os.sep)
    types, modules = set(), set()
    for config in (TINY, REAL, T2I):
        pipeline = load_pipeline(config, None, str(tmp_path / 'work'))
        for stage in build_stages(pipeline):
            command = stage.command()
            assert command[:2] == ['python', '-m'] and \
                command[2].startswith('sau_mm.cli.'), command
            assert not any(osp.abspath(arg).startswith(repo_code)
                           for arg in command), command
            types.add(stage.type_name)
            modules.add(command[2])
    assert types == set(STAGE_TYPES)
    assert modules == {f'sau_mm.cli.{name}' for name in (
        'subset_image_folder', 'train', 'diffult_sample', 'diffult_filter',
        'generate_synthetic', 'compare_runs', 'synthetic_report')}
    for name in modules:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin.startswith(package + os.sep)
        assert callable(importlib.import_module(name).main)


def test_a_stage_command_runs_with_the_package_alone(tmp_path, monkeypatch):
    """A non-editable install: the sau_mm package copied alone onto the
    path (no tools/, no repository), the prepare_data stage's command run as
    the runner runs it, from another folder."""
    monkeypatch.chdir(ROOT)
    site = tmp_path / 'site'
    shutil.copytree(osp.join(ROOT, 'sau_mm'), site / 'sau_mm',
                    ignore=shutil.ignore_patterns('__pycache__'))
    src = make_image_folder(str(tmp_path / 'src'), [3, 2])
    make_image_folder(src, [1, 1], split='test')
    path = write_pipeline(
        tmp_path, dict(train_ce=dict(type='train', config=CE)),
        dataset=dict(subset=dict(source=src,
                                 per_class=dict(train=2, test=1))))
    work = str(tmp_path / 'work')
    prepare = build_stages(load_pipeline(path, None, work))[0]
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable] + prepare.command()[1:], cwd=elsewhere,
        env=dict(os.environ, PYTHONPATH=str(site), OMP_NUM_THREADS='1'),
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f'{work}/prepare_data/train: 4 images, 2 classes (2..2 per ' \
        'class)' in result.stdout.splitlines()
    assert prepare.verify() is None

@pytest.mark.parametrize('value', [
    (16, 32), ('DownBlock2D', 'AttnDownBlock2D'), [1, 2], True, None, 0,
    1e-4, 0.8, 'data/cifar10-jpeg', (7,), []])
def test_cfg_option_values_read_back_as_given(value):
    text = format_value('k', value)
    back = read_back('k', text)
    assert back == value and type(back) is type(value)


@pytest.mark.parametrize('value', ['a b', 'x,y', '10', 'True', 'None'])
def test_cfg_option_values_that_would_change_are_refused(value):
    with pytest.raises(PipelineConfigError, match='would read back as'):
        format_value('k', value)


def test_training_progress_from_the_runs_scalars(tmp_path):
    now, start = [0.0], time.time()
    stamp = time.strftime('%Y%m%d_%H%M%S', time.localtime(start))
    old = tmp_path / '20000101_000000' / 'vis_data'  # an earlier start
    old.mkdir(parents=True)
    (old / 'scalars.json').write_text(json.dumps(dict(epoch=3, iter=1)))
    scalars = tmp_path / stamp / 'vis_data' / 'scalars.json'
    scalars.parent.mkdir(parents=True)

    def write(*lines, torn=''):
        with open(scalars, 'a') as f:
            f.write(''.join(json.dumps(x) + '\n' for x in lines) + torn)

    reader = TrainingProgress(str(tmp_path), 'epoch', 200, interval=30,
                              clock=lambda: now[0], since=start)
    assert reader.poll() == []
    train = dict(lr=0.1, loss=1.0, time=0.1)
    write(dict(train, epoch=12, iter=1100, step=1100))
    assert reader.poll() == ['epoch 12/200']  # no ETA before a 2nd epoch
    now[0] = 10  # same epoch, within the interval: quiet
    write(dict(train, epoch=12, iter=1110, step=1110),
          torn='{"lt/top1": 45.12')  # being written: read next time
    assert reader.poll() == []
    with open(scalars, 'a') as f:
        f.write('34, "lt/top5": 90.0, "step": 12}\n')
    assert reader.poll() == ['epoch 12/200 evaluated: top-1 45.12']
    now[0] = 60  # 60 s per epoch, 188 epochs to go from epoch 13's start
    write(dict(train, epoch=13, iter=1200, step=1200))
    assert reader.poll() == ['epoch 13/200, ETA 3:08:00']
    iters = TrainingProgress(str(tmp_path / 'gen'), 'iter', 300000,
                             clock=lambda: now[0], since=start)
    scalars = tmp_path / 'gen' / stamp / 'vis_data' / 'scalars.json'
    scalars.parent.mkdir(parents=True)
    write(dict(lr=4e-6, loss=0.1, time=0.2, iter=100, step=100))
    assert iters.poll() == ['iteration 100/300000, ETA 16:39:40']
    write(dict(lr=4e-6, loss=0.1, time=0.2, iter=300000, step=300000))
    assert iters.poll() == ['iteration 300000/300000, ETA 0:00:00']


def test_progress_lines_from_bars():
    now = [0.0]
    bar = ProgressReader(interval=30, clock=lambda: now[0])
    now[0] = 20  # a bar's first ETAs are noise: nothing before 30 s
    assert bar.feed('[>>>   ] 3/454, 1.0 task/s, elapsed: 3s, ETA:   '
                    '453s') is None
    now[0] = 45
    assert bar.feed('[>>>>>> ] 300/454, 9.0 task/s, elapsed: 33s, ETA:    '
                    '17s') == '300/454, ETA 0:00:17'
    assert bar.feed('generate:  50%|#####     | 500/1000 [01:40<01:40,  '
                    '5.00img/s]') is None  # within 30 s
    assert bar.feed('generate: 100%|##########| 1000/1000 [03:20<00:00,  '
                    '5.00img/s]') == '1000/1000, ETA 0:00:00'


def write_pipeline(tmp_path, stages, **top):
    path = tmp_path / 'p.py'
    lines = [f'{k} = {v!r}' for k, v in top.items()]
    lines.append(f'stages = {stages!r}')
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


CE = 'configs/baselines/resnet32_cifar10jpeg_lt/ce.py'


@pytest.mark.parametrize('stages,top,message', [
    (dict(a=dict(type='train', config=CE, epochs=3)), {},
     r"stages.a: unknown setting\(s\) \['epochs'\] for a 'train' stage"),
    (dict(a=dict(type='diffult_sample', generator='b')), {},
     r"stages.a: generator='b' must name an earlier stage of type train"),
    (dict(a=dict(type='training', config=CE)), {},
     r"stages.a has type 'training'; the types are"),
    (dict(a=dict(type='train', config='configs/nope.py')), {},
     r"stages.a.config 'configs/nope.py' does not exist"),
    (dict(a=dict(type='train')), {}, r"stages.a: \['config'\] must be set"),
    (dict(a=dict(type='train', config=CE)), dict(num_worker=0),
     r"unknown setting\(s\) \['num_worker'\]"),
])
def test_config_errors_name_the_file_and_setting(tmp_path, monkeypatch,
                                                 stages, top, message):
    monkeypatch.chdir(ROOT)
    path = write_pipeline(tmp_path, stages, **top)
    with pytest.raises(PipelineConfigError, match=message) as e:
        build_stages(load_pipeline(path))
    assert path in str(e.value)


def test_unknown_from_stage_is_an_error(monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(PipelineConfigError, match=r'--from sampel: no such '
                       r"stage; the stages are \['train_generator', "):
        in_process(REAL, None, dry_run=True, start='sampel')


def test_subset_copies_the_first_images_of_every_class(tmp_path):
    src = make_image_folder(str(tmp_path / 'src'), [5, 3, 4])
    make_image_folder(src, [2, 2, 2], split='test')
    dst = str(tmp_path / 'dst')
    plan = subset_image_folder(src, dst, dict(train=4, test=1))
    assert {c: len(f) for c, f in plan['train'].items()} == dict(
        class_0=4, class_1=3, class_2=4)
    assert sorted(os.listdir(osp.join(dst, 'train', 'class_0'))) == [
        f'{i:04d}.png' for i in range(4)]
    assert sum(len(f) for _, _, f in os.walk(osp.join(dst, 'test'))) == 3
    subset_image_folder(src, dst, dict(train=4, test=1))  # done: no-op
    with pytest.raises(FileExistsError, match='is not this subset'):
        subset_image_folder(src, dst, dict(train=2, test=1))


def test_a_failed_stage_stops_the_run_and_shows_its_output(tmp_path,
                                                           monkeypatch):
    monkeypatch.chdir(ROOT)
    missing = str(tmp_path / 'no_such_folder')
    path = write_pipeline(
        tmp_path, dict(train_ce=dict(type='train', config=CE)),
        dataset=dict(subset=dict(source=missing,
                                 per_class=dict(train=2, test=1))))
    work = str(tmp_path / 'work')
    code, lines = in_process(path, work)
    assert code == 1
    assert lines[-1] == (
        'stage 1/2 prepare_data: FAILED (exit status 1). Full output: '
        f'{work}/logs/prepare_data.log. Fix the cause and run the same '
        'command again: finished stages are skipped, this one resumes.')
    assert any(line.startswith('    | subset_image_folder: ') and missing in
               line for line in lines)
    assert not any('train_ce: running' in line for line in lines)
    with open(osp.join(work, 'pipeline_state.json')) as f:
        assert json.load(f)['stages']['prepare_data']['status'] == 'running'


@pytest.mark.slow
def test_text_to_image_stages_run_and_verify(tiny_sd_pipeline, tiny_clip,
                                            tmp_path, monkeypatch):
    """The text-to-image preset's four generator stages on a generated image
    folder, a tiny random diffusers pipeline and a tiny random CLIP (their
    numbers mean nothing), then a plan that finds them done."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    data = make_image_folder(str(tmp_path / 'data'), [8] * 10)
    make_image_folder(data, [1] * 10, split='test')
    clip_config, clip_checkpoint, clip = tiny_clip
    options = {
        'dataset.train.data_root': data, 'dataset.test.data_root': data,
        'dataset.train.imbalance_factor': 4, 'num_workers': 0,
        'stages.plan.oversample': 1.0,
        'stages.generate.pipeline_dir': tiny_sd_pipeline,
        'stages.generate.pipeline_class': 'StableDiffusionPipeline',
        'stages.generate.steps': 2, 'stages.generate.batch_size': 16,
        'stages.generate.device': 'cpu',
        'stages.clip_filter.clip_model': clip,
        'stages.clip_filter.clip_checkpoint': clip_checkpoint,
        'stages.clip_filter.clip_config': clip_config,
        'stages.clip_filter.device': 'cpu'}
    work = str(tmp_path / 'work')
    code, lines = in_process(T2I, work, cfg_options=options,
                             until='clip_filter')
    assert code == 0, '\n'.join(lines[-30:])
    folder = osp.join(work, 'plan')
    # IF 4 on 8 per class: n_c = int(8 * 4^(-c/9)), filled to 8
    needed = sum(8 - int(8 * 4 ** (-c / 9)) for c in range(10))
    assert len(read_manifest(osp.join(folder, 'generated.jsonl'))) == needed
    with open(osp.join(folder, 'filter_report.json')) as f:
        report = json.load(f)
    assert report['scored'] == needed
    assert len(read_manifest(osp.join(folder, 'manifest.jsonl'))) == \
        report['kept']
    code, lines = in_process(T2I, work, cfg_options=options, dry_run=True)
    assert [x.split()[1:3] for x in lines[1:13:3]] == [
        [name, '[done]'] for name in ('plan', 'prompts', 'generate',
                                      'clip_filter')]
