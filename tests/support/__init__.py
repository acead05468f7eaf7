"""Helpers of the tests: generated data in the real on-disk formats
(data), tiny generation models and a fake LLM server (generation), small
MMEngine runs (training). The set-ups several test files share are the
fixtures of tests/conftest.py."""
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# The real CIFAR-10 (JPEG) data, unpacked, and the archive CI keeps beside
# the checkout (tests use the conftest fixture cifar10_jpeg_root).
CIFAR10_JPEG_DIR = osp.join(ROOT, 'data', 'cifar10-jpeg')
CIFAR10_JPEG_ARCHIVE = osp.normpath(
    osp.join(ROOT, '..', 'shared', 'data', 'cifar10-jpeg.tar.gz'))
