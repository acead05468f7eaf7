"""tools/gpu_check.sh (its --cpu-dry-run) and tools/fetch_gpu_wheels.sh
(its --list mode: no download here)."""
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_fetch_gpu_wheels_list():
    out = subprocess.run(['bash', 'tools/fetch_gpu_wheels.sh', '--list'],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    pkgs = [line for line in out.stdout.splitlines()
            if not line.startswith('data:')]
    assert all(re.fullmatch(r'[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.+]*', p)
               for p in pkgs), pkgs
    names = {p.split('==')[0].lower().replace('_', '-') for p in pkgs}
    assert {'mmengine', 'mmcv-lite', 'mmpretrain', 'kornia'} <= names
    # the GPU machine brings these; generation packages are opt-in
    assert not names & {'torch', 'torchvision', 'numpy', 'diffusers',
                        'transformers', 'open-clip-torch', 'openai'}
    assert len(names) == len(pkgs)  # one version of each
    full = subprocess.run(
        ['bash', 'tools/fetch_gpu_wheels.sh', '--list', '--with-generation'],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert 'diffusers==' in full and 'open_clip_torch==' in full
    # the pins of requirements.txt
    req = open(os.path.join(ROOT, 'requirements.txt')).read()
    for p in pkgs + full.splitlines():
        name = p.split('==')[0]
        m = re.search(rf'^{re.escape(name)}==(\S+)', req, re.M)
        if m:
            assert p == f'{name}=={m.group(1)}'


@pytest.mark.slow
def test_gpu_check_cpu_dry_run(cifar10_jpeg_root, tmp_path):
    """The script copies its tiny data from the fixture's CIFAR-10 (JPEG)
    (CIFAR10_JPEG_SRC), so the test writes nothing into the repository; the
    fixture fails first, naming what to do, when there is none."""
    env = dict(os.environ, PYTHON=sys.executable,
               CIFAR10_JPEG_SRC=cifar10_jpeg_root)
    proc = subprocess.run(
        ['bash', 'tools/gpu_check.sh', str(tmp_path), '--cpu-dry-run'],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=1500)
    log = (tmp_path / 'gpu_check.log').read_text() \
        if (tmp_path / 'gpu_check.log').exists() else ''
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((tmp_path / 'gpu_check.json').read_text())
    steps = summary['steps']
    expected = ['oracle_manifest', 'smoke_ce', 'smoke_ce_device', 'smoke_sau',
                'smoke_sau_device', 'smoke_glag_stage1',
                'smoke_diffult_train', 'smoke_diffult_sample',
                'smoke_t2i_generate', 'bench', 'ce_run_device', 'ce_run_cpu']
    assert list(steps) == expected, steps
    bad = {k: v for k, v in steps.items() if v['status'] != 'ok'}
    assert not bad, (bad, log[-5000:])
    assert summary['all_ok'] and summary['dry_run']
    assert summary['device'] == 'cpu'
    cases = steps['bench']['cases']  # the dry run's share of the suite
    assert sorted(cases) == ['ce_classic/cpu_path', 'ce_classic/device_path']
    for case in cases.values():
        assert case['samples_per_s'] > 0 and case['bare_samples_per_s'] > 0
        assert case['flop_per_sample'] > 0 and case['s_per_epoch'] > 0
    assert cases['ce_classic/cpu_path']['flop_per_sample'] == cases[
        'ce_classic/device_path']['flop_per_sample']  # the same model
    for name in ('ce_run_device', 'ce_run_cpu'):
        ce = summary[name]
        assert ce['epochs_done'] == 1 and ce['last_checkpoint_epoch'] == 1
        assert 0 <= ce['last_top1'] <= 100 and 0 <= ce['best_top1'] <= 100
