import os
import os.path as osp
import sys
import tarfile

import pytest

# Tests import sau_mm (compat fixes) before anything else, and the data factory.
sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault('OMP_NUM_THREADS', '2')

import sau_mm  # noqa: E402,F401

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CIFAR10_JPEG_DIR = osp.join(ROOT, 'data', 'cifar10-jpeg')
CIFAR10_JPEG_ARCHIVE = osp.normpath(
    osp.join(ROOT, '..', 'shared', 'data', 'cifar10-jpeg.tar.gz'))


def cifar10_jpeg_problem(root: str):
    """None if ``root`` is a complete CIFAR-10 (JPEG) folder (train/ and
    test/ with 10 non-empty class folders each), else what is wrong."""
    for split in ('train', 'test'):
        folder = osp.join(root, split)
        if not osp.isdir(folder):
            return f'{folder} is missing'
        classes = [e for e in os.scandir(folder) if e.is_dir()]
        if len(classes) != 10:
            return f'{folder} has {len(classes)} class folders, not 10'
        empty = [e.name for e in classes if not any(os.scandir(e.path))]
        if empty:
            return f'{folder} has empty class folders {empty}'
    return None


@pytest.fixture(scope='session')
def cifar10_jpeg_root(tmp_path_factory) -> str:
    """Path of the real CIFAR-10 (JPEG) data: ``{train,test}/<class>/NNNN.jpg``
    (10 classes; 5,000 / 1,000 images per class) and
    ``original_order_labels.npz``; use it as the ``data_root`` of an
    ``image_folder`` dataset. Read-only: do not write into it.

    ROOT/data/cifar10-jpeg if it is unpacked there and complete; otherwise
    ROOT/../shared/data/cifar10-jpeg.tar.gz (where CI keeps it) is extracted
    once per test session into a pytest temp folder (a few seconds). Fails,
    never skips, when neither is there."""
    if cifar10_jpeg_problem(CIFAR10_JPEG_DIR) is None:
        return CIFAR10_JPEG_DIR
    if not osp.isfile(CIFAR10_JPEG_ARCHIVE):
        problem = cifar10_jpeg_problem(CIFAR10_JPEG_DIR)
        pytest.fail(
            f'CIFAR-10 (JPEG) data not found: {CIFAR10_JPEG_DIR} is not a '
            f'complete unpacked copy ({problem}) and the archive '
            f'{CIFAR10_JPEG_ARCHIVE} does not exist. Unpack the archive into '
            'data/ or put it at that path.', pytrace=False)
    target = tmp_path_factory.mktemp('cifar10-jpeg-extracted')
    with tarfile.open(CIFAR10_JPEG_ARCHIVE) as tar:
        tar.extractall(target, filter='data')
    root = str(target / 'cifar10-jpeg')
    problem = cifar10_jpeg_problem(root)
    if problem is not None:
        pytest.fail(f'{CIFAR10_JPEG_ARCHIVE} extracted to {target} is not a '
                    f'complete CIFAR-10 (JPEG) copy: {problem}.',
                    pytrace=False)
    return root
