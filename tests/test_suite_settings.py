"""The test suite's own settings (tests/conftest.py, pyproject.toml)."""
import os

import torch


def test_one_torch_thread_per_xdist_worker():
    """Under pytest-xdist every worker computes with one thread (two per
    worker on a 2-core machine made the suite three times slower); a plain
    pytest run uses OMP_NUM_THREADS, 2 unless set."""
    if 'PYTEST_XDIST_WORKER' in os.environ:
        assert os.environ['OMP_NUM_THREADS'] == '1'
        assert torch.get_num_threads() == 1
    else:
        assert torch.get_num_threads() == int(os.environ['OMP_NUM_THREADS'])
