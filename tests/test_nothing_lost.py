"""Nothing lost to a kill or a bad file: atomic checkpoints,
--resume on a bad checkpoint, the best-so-far state through --resume,
batch-independent DiffuLT images, a refused LLM connection failing fast."""
import glob
import os
import os.path as osp
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner
from PIL import Image

from sau_mm.datasets.manifest import read_manifest, resolve_path
from sau_mm.engine.checkpoint_files import (CheckpointError,
                                            checkpoint_problem,
                                            resolve_resume)
from sau_mm.generation.diffult.sampling import sample_complement
from sau_mm.generation.text2image import cli
from sau_mm.generation.text2image.plan import compute_plan, write_plan
from sau_mm.generation.text2image.prompts import (LLMClient,
                                                  PromptEndpointError)

from tests.support.generation import FakeLLM, one_torch_thread
from tests.support.training import dataloader_overrides, small_cfg

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CE = osp.join(ROOT, 'configs/baselines/resnet32_cifar10lt/ce.py')
EPOCHS = 3


class MetricRecorder(Hook):
    """(epoch, lt/top1, lt/top1_best) of every validation."""
    priority = 'LOWEST'

    def __init__(self):
        self.rows = []

    def after_val_epoch(self, runner, metrics=None):
        self.rows.append((runner.epoch, metrics['lt/top1'],
                          metrics['lt/top1_best']))


@pytest.fixture(scope='module')
def cifar10(cifar10_pickles):
    return cifar10_pickles(16, 4)


# lr 0.1: top-1 moves up and down between epochs, so a best that forgot
# itself on resume would show
LR = {'optim_wrapper.optimizer.lr': 0.1}


def cfg_for(data, work_dir, **overrides):
    return small_cfg(CE, data, work_dir, epochs=EPOCHS, **LR, **overrides)


def train(cfg):
    """Train on one thread (every run here, so that their floats agree;
    and two threads collapse when other processes share the cores)."""
    runner = Runner.from_cfg(cfg)
    recorder = MetricRecorder()
    runner.register_hook(recorder)
    with one_torch_thread():
        runner.train()
    return runner, recorder.rows


def best_files(work_dir):
    return sorted(osp.basename(p) for p in glob.glob(
        osp.join(work_dir, 'best_*.pth')))


def weights(runner):
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def assert_same_weights(a, b):
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


@pytest.fixture(scope='module')
def straight(cifar10, tmp_path_factory):
    """The uninterrupted run: work dir, per-epoch metrics, final weights,
    MMEngine's best score."""
    work = str(tmp_path_factory.mktemp('straight'))
    runner, rows = train(cfg_for(cifar10, work))
    return dict(work=work, rows=rows, weights=weights(runner),
                best_score=runner.message_hub.get_info('best_score'))


def read_last_checkpoint(work):
    with open(osp.join(work, 'last_checkpoint')) as f:
        return f.read().strip()


KILLER = textwrap.dedent('''
    import os, signal, sys
    sys.path.insert(0, {root!r})
    import sau_mm  # noqa: F401
    import torch
    from mmengine.fileio.backends import LocalBackend
    from mmengine.runner import Runner
    from tests.support.training import small_cfg

    real_put = LocalBackend.put

    def put(self, obj, filepath):
        """Die (SIGKILL) halfway through writing the target checkpoint."""
        if os.path.basename(str(filepath)).startswith({target!r}):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
                f.flush()
                os.fsync(f.fileno())
            os.kill(os.getpid(), signal.SIGKILL)
        return real_put(self, obj, filepath)

    LocalBackend.put = put
    torch.set_num_threads(1)  # as the tests' in-process runs
    Runner.from_cfg(small_cfg({config!r}, {data!r}, {work!r},
                              epochs={epochs}, **{lr!r})).train()
''')


# The kill tests, one per way a kill can leave a work dir: inside a
# checkpoint file's write (a real SIGKILL in a subprocess: the atomic write),
# between a checkpoint and the end of its validation (the revalidation on
# resume), inside last_checkpoint's write (the stale temp file on resume).
@pytest.mark.slow
def test_sigkill_mid_save_keeps_the_previous_checkpoint_and_resumes(
        cifar10, straight, tmp_path):
    """SIGKILL halfway through writing epoch_2.pth: epoch_1.pth and
    last_checkpoint are intact, --resume continues from epoch 1 and ends
    exactly as the uninterrupted run (weights, top1_best of every epoch,
    best_* file, MMEngine's best score)."""
    work = str(tmp_path / 'killed')
    script = tmp_path / 'killer.py'
    script.write_text(KILLER.format(root=ROOT, target='epoch_2.pth',
                                    config=CE, data=cifar10, work=work,
                                    epochs=EPOCHS, lr=LR))
    proc = subprocess.run([sys.executable, str(script)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    partial = glob.glob(osp.join(work, 'epoch_2.pth.tmp.*'))
    assert len(partial) == 1 and checkpoint_problem(partial[0])
    assert not osp.exists(osp.join(work, 'epoch_2.pth'))
    assert read_last_checkpoint(work) == osp.join(work, 'epoch_1.pth')
    assert checkpoint_problem(osp.join(work, 'epoch_1.pth')) is None
    assert best_files(work) == ['best_lt_top1_epoch_1.pth']

    runner, rows = train(cfg_for(cifar10, work, resume=True))  # --resume
    assert not glob.glob(osp.join(work, '*.tmp.*'))
    assert_same_weights(straight['weights'], weights(runner))
    assert rows == straight['rows'][1:]  # epochs 2 and 3
    assert best_files(work) == best_files(straight['work'])
    assert runner.message_hub.get_info('best_score') == \
        straight['best_score']


class Killed(BaseException):
    """Stands for a SIGKILL inside this process."""


@pytest.mark.slow  # kill path: between a checkpoint and its validation
def test_kill_between_save_and_validation_end_revalidates_on_resume(
        cifar10, straight, tmp_path, monkeypatch):
    """Killed while writing best_lt_top1_epoch_1.pth (epoch_1.pth already
    saved, its validation not recorded): the resumed run validates epoch 1
    first, then every epoch's top1_best and the best_* file are those of the
    uninterrupted run; the metric's best lives in the checkpoint."""
    from mmengine.fileio.backends import LocalBackend
    real_put = LocalBackend.put

    def put(self, obj, filepath):
        if osp.basename(str(filepath)).startswith('best_lt_top1_epoch_1'):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 3])
            raise Killed()
        return real_put(self, obj, filepath)

    work = str(tmp_path / 'killed')
    monkeypatch.setattr(LocalBackend, 'put', put)
    with pytest.raises(Killed):
        train(cfg_for(cifar10, work))
    monkeypatch.setattr(LocalBackend, 'put', real_put)
    assert best_files(work) == []
    assert read_last_checkpoint(work) == osp.join(work, 'epoch_1.pth')
    assert torch.load(osp.join(work, 'epoch_1.pth'), weights_only=False)[
        'meta']['evaluated_epoch'] == 0

    runner, rows = train(cfg_for(cifar10, work, resume=True))
    assert rows == straight['rows']  # epoch 1 validated again, then 2, 3
    assert best_files(work) == best_files(straight['work'])
    assert_same_weights(straight['weights'], weights(runner))
    last = torch.load(osp.join(work, f'epoch_{EPOCHS}.pth'),
                      weights_only=False)
    assert last['meta']['evaluated_epoch'] == EPOCHS
    assert last['metric_states']['0.LongTailAccuracy']['best_top1'] == \
        straight['rows'][-1][2]


@pytest.mark.parametrize('damage', ['empty', 'truncated', 'corrupt'])
def test_bad_checkpoint_is_named_with_the_one_to_use(straight, tmp_path,
                                                     damage):
    work = str(tmp_path / 'work')
    shutil.copytree(straight['work'], work,
                    ignore=shutil.ignore_patterns('2*'))  # no log folders
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work, 'epoch_3.pth'))
    bad = osp.join(work, 'epoch_3.pth')
    data = open(bad, 'rb').read()
    with open(bad, 'wb') as f:
        if damage == 'truncated':
            f.write(data[:len(data) // 2])
        elif damage == 'corrupt':  # same size, bytes changed mid-file
            middle = len(data) // 2
            f.write(data[:middle] + bytes(64) + data[middle + 64:])
    problem = checkpoint_problem(bad)
    assert problem.startswith({'empty': 'is empty', 'truncated':
                               'is truncated', 'corrupt': 'is corrupt'}[
                                   damage]), problem
    older = osp.join(work, 'epoch_2.pth')
    with pytest.raises(CheckpointError) as err:
        resolve_resume(work, bad)  # --resume FILE: an error
    assert f'Cannot resume from {bad}: it {problem}' in str(err.value)
    assert f'resume with --resume {older}' in str(err.value)
    assert resolve_resume(work, None) == older  # --resume: falls back


def test_train_tool_resume_on_truncated_file_and_fallback(cifar10, straight,
                                                          tmp_path,
                                                          monkeypatch):
    """tools/train.py --resume FILE on a truncated file exits (status 1)
    with the error; --resume alone falls back to epoch 2 and ends as the
    uninterrupted run."""
    work = str(tmp_path / 'work')
    shutil.copytree(straight['work'], work,
                    ignore=shutil.ignore_patterns('2*'))
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work, 'epoch_3.pth'))
    bad = osp.join(work, 'epoch_3.pth')
    with open(bad, 'r+b') as f:
        f.truncate(osp.getsize(bad) // 2)
    monkeypatch.setattr(sys, 'argv', ['tools/train.py', CE, '--work-dir',
                                      work, '--resume', bad])
    with pytest.raises(SystemExit) as exit_:  # exit status 1, the message
        runpy.run_path(osp.join(ROOT, 'tools/train.py'), run_name='__main__')
    message = str(exit_.value.code)
    assert message.startswith(f'--resume: Cannot resume from {bad}: it is '
                              'truncated or corrupt'), message
    assert f'resume with --resume {osp.join(work, "epoch_2.pth")}' in message

    fallback = resolve_resume(work, None)
    runner, rows = train(cfg_for(cifar10, work, resume=True,
                                 load_from=fallback))
    assert rows == straight['rows'][2:]
    assert_same_weights(straight['weights'], weights(runner))
    assert checkpoint_problem(bad) is None  # rewritten whole


# kill path: inside the write of last_checkpoint
def test_plain_resume_after_a_kill_inside_the_last_checkpoint_write(
        cifar10, tmp_path, monkeypatch):
    """A kill while last_checkpoint is written leaves
    last_checkpoint.tmp.<pid> in the work dir (which is also the checkpoint
    folder, so both of the hook's patterns match it): the first plain
    --resume removes it once and trains on."""
    work = str(tmp_path / 'work')
    options = [f'{k}={v}' for k, v in dataloader_overrides(cifar10).items()]
    options += ['train_dataloader.dataset.imbalance_factor=4',
                'train_dataloader.batch_size=32']

    def train_tool(*args):
        monkeypatch.setattr(sys, 'argv', ['tools/train.py', CE, '--work-dir',
                                          work, *args, '--cfg-options',
                                          *options])
        with one_torch_thread():
            runpy.run_path(osp.join(ROOT, 'tools/train.py'),
                           run_name='__main__')

    options.append('train_cfg.max_epochs=1')
    train_tool()
    stale = osp.join(work, 'last_checkpoint.tmp.99999')
    with open(stale, 'w') as f:
        f.write('x\n')
    options[-1] = 'train_cfg.max_epochs=2'
    train_tool('--resume')  # used to fail: FileNotFoundError
    assert not osp.exists(stale)
    assert read_last_checkpoint(work) == osp.join(work, 'epoch_2.pth')
    logs = sorted(glob.glob(osp.join(work, '2*', '*.log')))
    log = open(logs[-1]).read()
    assert log.count(f'Removed {stale}, a partial checkpoint') == 1


# ------------------------------------------------------------- DiffuLT
REAL = [6, 4, 2, 1]  # plan: 0, 2, 4, 5 images


@pytest.fixture(scope='module')
def ddpm(tiny_ddpm):
    assert tiny_ddpm.num_classes == len(REAL)
    return tiny_ddpm


def record_unet_rows(model):
    """Wrap ``model.sample`` to record, per image seed, the UNet's float
    outputs of the image's rows (conditional and unconditional) at every
    step: equal records mean bit-identical images."""
    records, original = {}, model.sample

    def sample(labels, generators, *args, **kwargs):
        seeds = [g.initial_seed() for g in generators]
        calls = []
        handle = model.unet.register_forward_hook(
            lambda mod, inp, out: calls.append(out.sample.clone()))
        try:
            images = original(labels, generators, *args, **kwargs)
        finally:
            handle.remove()
        n = len(seeds)
        for row, seed in enumerate(seeds):
            records[seed] = [torch.stack([c[row], c[n + row]])
                             for c in calls]
        return images

    model.sample = sample
    return records


@pytest.mark.parametrize('sampler', ['ddim', 'ddpm'])
def test_diffult_image_is_the_same_alone_or_in_any_batch(ddpm, tmp_path,
                                                         monkeypatch,
                                                         sampler):
    """Images regenerated alone, or with other subsets missing (as after a
    kill mid-batch), equal the full run's: the same uint8 pixels, and the
    same float UNet outputs at every step."""
    kw = dict(guidance=0.8, sampler=sampler, steps=3, batch_size=5, seed=7)
    monkeypatch.setattr(ddpm, 'sample', ddpm.sample)  # undone after
    rows = record_unet_rows(ddpm)
    with one_torch_thread():
        full = sample_complement(ddpm, REAL, str(tmp_path / 'full'), **kw)
    records = read_manifest(full)
    pixels = {r.path: np.asarray(Image.open(resolve_path(full, r)))
              for r in records}
    floats, seed_of = dict(rows), {r.path: r.seed for r in records}
    paths = sorted(pixels)
    for missing in [paths[:1], paths[5:6], paths[-1:],  # alone
                    paths[::2], paths[1::3]]:  # in other batches
        out = tmp_path / 'again'
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(tmp_path / 'full', out)
        for p in missing:
            os.remove(out / p)
        rows.clear()
        with one_torch_thread():
            sample_complement(ddpm, REAL, str(out), **kw)
        for p in missing:
            np.testing.assert_array_equal(
                np.asarray(Image.open(out / p)), pixels[p], err_msg=p)
            again, before = rows[seed_of[p]], floats[seed_of[p]]
            assert len(again) == len(before) == kw['steps']
            for a, b in zip(again, before):
                assert torch.equal(a, b), p


def test_the_sampling_determinism_claim_is_stated_exactly(monkeypatch,
                                                          capsys):
    """What the test above shows, and only that, in the tool's --help and
    the README: same batch size, byte-identical whatever the batch
    composition; another batch size can change a few pixel values by 1."""
    monkeypatch.setattr(sys, 'argv', ['diffult_sample.py', '--help'])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(osp.join(ROOT, 'tools/diffult_sample.py'),
                       run_name='__main__')
    assert exit_.value.code == 0
    help_text = ' '.join(capsys.readouterr().out.split())
    assert ('Determinism: same --batch-size: byte-identical images whatever '
            'the batch composition; a different --batch-size can change a '
            'few pixel values by 1.') in help_text
    readme = ' '.join(open(osp.join(ROOT, 'README.md')).read().split())
    assert ('with the same `--batch-size` an image is byte-identical '
            'whatever the batch composition, so a rerun after a kill makes '
            'the images of an uninterrupted run; a different `--batch-size` '
            'can change a few pixel values by 1') in readme
    assert 'bit-identical whatever else shares its batch' not in readme


# ----------------------------------------------------------------- LLM
def closed_port_url():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    return f'http://127.0.0.1:{port}/v1'


def test_refused_llm_connection_fails_in_seconds_with_plain_log(tmp_path):
    url = closed_port_url()
    client = LLMClient(url, 'normal', api_key_env='SAU_TEST_LLM_KEY',
                       max_retries=5, backoff=1.0)  # the CLI's defaults
    start = time.monotonic()
    with pytest.raises(PromptEndpointError,
                       match=f'{url} cannot be reached: the connection was '
                       'refused.*not retried.*--base-url'):
        client.ask('cat')
    assert time.monotonic() - start < 5
    assert client.stats['retries'] == 0

    out = str(tmp_path)
    write_plan(out, compute_plan(['cat', 'ship'], [4, 1], resolution=32))
    start = time.monotonic()
    assert cli.main(['prompts', '--out-dir', out, '--mode', 'llm',
                     '--base-url', url, '--model', 'normal']) == 1
    assert time.monotonic() - start < 5
    log = open(glob.glob(osp.join(out, 'logs', 'prompts_*.log'))[0]).read()
    assert f'ERROR: prompts failed: The LLM endpoint {url} cannot be ' \
        'reached' in log
    assert ' - mmengine - ' not in log and 'logger.py' not in log
    first = log.splitlines()[0]  # "2026-05-01 12:00:00 Stage prompts, ..."
    time.strptime(first[:19], '%Y-%m-%d %H:%M:%S')
    assert first[20:].startswith('Stage prompts, out_dir ')


def test_http_500_is_still_retried():
    with FakeLLM() as server:
        client = LLMClient(server.base_url, 'error-2',
                           api_key_env='SAU_TEST_LLM_KEY', backoff=0.01)
        assert 'ship' in client.ask('ship')
        assert server.count('error-2') == 3
        assert client.stats['retries'] == 2
