"""What tools/train.py and tools/test.py do to a config before the run:
dataloader workers fitted to the machine, the default work dir."""
import os.path as osp
from types import SimpleNamespace

import pytest

import sau_mm.engine.runner_setup as setup

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CE = osp.join(ROOT, 'configs/baselines/resnet32_cifar10jpeg_lt/ce.py')


def args_for(config, cfg_options=None, work_dir=None):
    return SimpleNamespace(config=config, cfg_options=cfg_options,
                           work_dir=work_dir, launcher='none', local_rank=0)


@pytest.fixture
def logged(monkeypatch):
    lines = []
    monkeypatch.setattr(setup, 'print_log',
                        lambda msg, **kw: lines.append(msg))
    return lines


def workers(cfg):
    return [(cfg[n].num_workers, cfg[n].persistent_workers)
            for n in setup.LOADERS]


def test_workers_are_capped_at_the_cores_unless_given(monkeypatch, logged):
    monkeypatch.setattr(setup, 'available_cpus', lambda: 2)
    cfg = setup.load_config(args_for(CE))  # the config asks for 4
    assert workers(cfg) == [(2, True)] * 3
    assert logged == [
        'Data loading: 2 CPU cores for this process, so num_workers=2 '
        "instead of the config's (train_dataloader 4, val_dataloader 4, "
        "test_dataloader 4). The worker count picks each training batch's "
        'augmentation seed: --cfg-options <loader>.num_workers=N keeps N (to '
        'repeat a run made with N).']
    logged.clear()
    cfg = setup.load_config(args_for(CE, {'train_dataloader.num_workers': 4}))
    assert workers(cfg) == [(4, True), (2, True), (2, True)]
    assert "(val_dataloader 4, test_dataloader 4)" in logged[0]
    logged.clear()
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '2')  # torchrun, 2 processes
    assert workers(setup.load_config(args_for(CE))) == [(1, True)] * 3
    monkeypatch.setattr(setup, 'available_cpus', lambda: 8)
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '1')
    logged.clear()
    assert workers(setup.load_config(args_for(CE))) == [(4, True)] * 3
    assert logged == []


def test_no_workers_turns_persistent_workers_off(monkeypatch, logged):
    monkeypatch.setattr(setup, 'available_cpus', lambda: 8)
    options = {'train_dataloader.num_workers': 0,
               'test_dataloader.num_workers': 0}
    cfg = setup.load_config(args_for(CE, options))
    assert workers(cfg) == [(0, False), (4, True), (0, False)]
    assert logged == ['num_workers=0: persistent_workers set to False on '
                      'train_dataloader, test_dataloader (MMEngine needs '
                      'workers for persistent ones).']


def test_the_default_work_dir_is_unique_per_config(tmp_path, logged):
    """Leaf configs share file names (ce.py in every baseline folder): the
    default work dir is the config's path under configs/."""
    assert setup.load_config(args_for(CE)).work_dir == \
        './work_dirs/baselines/resnet32_cifar10jpeg_lt/ce'
    c100 = osp.join(ROOT, 'configs/baselines/resnet32_cifar100lt/ce.py')
    assert setup.load_config(args_for(c100)).work_dir == \
        './work_dirs/baselines/resnet32_cifar100lt/ce'
    mine = tmp_path / 'my_ce.py'  # outside a configs/ folder: its stem
    mine.write_text('x = 1\n')
    assert setup.load_config(args_for(str(mine))).work_dir == \
        './work_dirs/my_ce'
    assert setup.load_config(args_for(CE, work_dir='w')).work_dir == 'w'
