"""tools/slurm_train.sh and tools/slurm_test.sh through a stand-in ``srun``
that runs the command as the one task of a one-node job (the SLURM
variables a real srun sets for it), so the whole path to a finished CPU run
is exercised: srun options, --launcher slurm, mmengine's slurm init (gloo on
CPU), training, checkpoint, test."""
import os
import os.path as osp
import stat
import subprocess
import sys

import pytest

from tests.support.training import dataloader_overrides


ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CE = 'configs/baselines/resnet32_cifar10lt/ce.py'

SRUN = """#!/usr/bin/env bash
# stand-in srun: records its arguments, skips its options, then runs the
# command as task 0 of 1 on this machine, as srun does on one node
echo "$@" > "$SRUN_LOG"
while [[ $# -gt 0 && $1 == -* ]]; do
  case $1 in -p|-J|-n|-N|-c) shift 2 ;; *) shift ;; esac
done
export SLURM_PROCID=0 SLURM_NTASKS=1 SLURM_NODELIST=localhost \\
  SLURM_LOCALID=0 SLURM_NNODES=1 SLURM_JOB_ID=1
exec "$@"
"""
# mmengine asks scontrol for the first host of SLURM_NODELIST
SCONTROL = """#!/usr/bin/env bash
[[ $1 == show && $2 == hostname ]] && echo "$3"
"""


def stand_ins(folder):
    os.makedirs(folder)
    for name, text in (('srun', SRUN), ('scontrol', SCONTROL)):
        path = osp.join(folder, name)
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
    return folder


def run(script, args, env):
    return subprocess.run(['bash', script, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_slurm_train_and_test_through_srun(cifar10_pickles, tmp_path):
    data = cifar10_pickles(20, 2)
    work = tmp_path / 'work'
    options = ['--cfg-options'] + [
        f'{k}={v}' for k, v in dataloader_overrides(data).items()] + [
        'train_dataloader.dataset.imbalance_factor=4',
        'train_dataloader.batch_size=32', 'train_cfg.max_epochs=1']
    env = dict(os.environ,
               PATH=stand_ins(str(tmp_path / 'bin')) + os.pathsep
               + os.environ['PATH'],
               PYTHON=sys.executable, PYTHONPATH=ROOT, OMP_NUM_THREADS='1',
               GPUS='1', GPUS_PER_NODE='1', CPUS_PER_TASK='2',
               SRUN_ARGS='--quiet', MASTER_PORT='29531',
               SRUN_LOG=str(tmp_path / 'srun_args'))

    train = run('tools/slurm_train.sh', ['debug', 'tiny-ce', CE, str(work)]
                + options, env)
    log = train.stdout + train.stderr
    assert train.returncode == 0, log[-4000:]
    srun_args = (tmp_path / 'srun_args').read_text().split()
    assert srun_args[:9] == [
        '-p', 'debug', '--job-name=tiny-ce', '--gres=gpu:1', '--ntasks=1',
        '--ntasks-per-node=1', '--cpus-per-task=2', '--kill-on-bad-exit=1',
        '--quiet']
    assert srun_args[9:14] == [sys.executable, '-u', 'tools/train.py', CE,
                               f'--work-dir={work}']
    assert '--launcher=slurm' in srun_args
    assert 'Distributed training: True' in log
    assert 'launcher = \'slurm\'' in log
    assert osp.isfile(work / 'epoch_1.pth')

    test = run('tools/slurm_test.sh',
               ['debug', 'tiny-ce-test', CE, str(work / 'epoch_1.pth'),
                '--work-dir', str(work)] + options, env)
    log = test.stdout + test.stderr
    assert test.returncode == 0, log[-4000:]
    assert (tmp_path / 'srun_args').read_text().split()[9:13] == [
        sys.executable, '-u', 'tools/test.py', CE]
    assert 'Distributed training: True' in log
    assert 'Epoch(test)' in log and 'lt/top1' in log
