"""sau_mm.utils.fileio: atomic writes and the writer-liveness check."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from sau_mm.utils.fileio import (atomic_path, atomic_write, atomic_write_json,
                                 pid_alive, temp_path, temp_pid)


def test_writes_text_bytes_and_json_and_leaves_no_temp(tmp_path):
    text, data, js = (str(tmp_path / 'sub' / name)
                      for name in ('a.txt', 'b.bin', 'c.json'))
    atomic_write(text, 'grüße\n')  # the folder is created
    atomic_write(data, b'\x00\xff')
    atomic_write_json(js, {'k': [1, 'é']}, indent=1, ensure_ascii=False)
    assert open(text, encoding='utf-8').read() == 'grüße\n'
    assert open(data, 'rb').read() == b'\x00\xff'
    assert open(js, encoding='utf-8').read() == '{\n "k": [\n  1,\n  "é"\n ]\n}'
    assert json.load(open(js, encoding='utf-8')) == {'k': [1, 'é']}
    assert sorted(os.listdir(tmp_path / 'sub')) == ['a.txt', 'b.bin',
                                                    'c.json']


def test_replaces_the_old_file_through_the_temp_name(tmp_path):
    path = str(tmp_path / 'f.txt')
    atomic_write(path, 'old')
    with atomic_path(path) as tmp:
        assert tmp == f'{path}.tmp.{os.getpid()}' == temp_path(path)
        assert osp.dirname(tmp) == osp.dirname(path)
        with open(tmp, 'w') as f:
            f.write('new')
        assert open(path).read() == 'old'  # not replaced before the exit
    assert open(path).read() == 'new'
    assert not osp.exists(tmp)
    assert temp_pid(tmp) == os.getpid()


@pytest.mark.parametrize('error', [OSError('disk full'), KeyboardInterrupt()])
def test_failure_mid_write_keeps_the_old_file(tmp_path, error):
    path = str(tmp_path / 'f.txt')
    atomic_write(path, 'old')
    with pytest.raises(type(error)):
        with atomic_path(path) as tmp, open(tmp, 'w') as f:
            f.write('half of the new')
            f.flush()
            assert osp.getsize(tmp) > 0
            raise error
    assert open(path).read() == 'old'
    assert os.listdir(tmp_path) == ['f.txt']


def test_json_that_fails_to_serialise_keeps_the_old_file(tmp_path):
    path = str(tmp_path / 'f.json')
    atomic_write_json(path, {'v': 1})
    with pytest.raises(TypeError, match='not JSON serializable'):
        atomic_write_json(path, {'v': 2, 'w': object()}, indent=1)
    assert json.load(open(path)) == {'v': 1}
    assert os.listdir(tmp_path) == ['f.json']


def test_pid_alive():
    assert pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, '-c', 'pass'])
    child.wait()
    assert not pid_alive(child.pid)
    assert pid_alive(1)  # init runs (whichever user owns it)
