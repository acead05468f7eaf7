"""Fixtures shared by the test files: the real CIFAR-10 (JPEG) data (the one
place that decides what happens when it is missing), generated data and the
tiny models several files use."""
import os
import os.path as osp
import tarfile

import pytest

# One torch thread per pytest-xdist worker (``-n auto``: a worker per core;
# tiny models gain nothing from a second thread, and OpenMP threads that
# spin-wait for a busy core slow everything down: three times slower with two
# threads per worker on two cores), two in a single process. A worker inherits
# the controlling process's environment, so it sets its own value, and the
# processes it starts inherit it.
if 'PYTEST_XDIST_WORKER' in os.environ:
    os.environ['OMP_NUM_THREADS'] = '1'
else:
    os.environ.setdefault('OMP_NUM_THREADS', '2')

from tests.support import CIFAR10_JPEG_ARCHIVE, CIFAR10_JPEG_DIR  # noqa: E402


def pytest_collectstart(collector):
    """sau_mm (its compat fixes) before the first test file is imported.
    Here rather than at the top: pytest-xdist's controlling process, which
    collects nothing, then starts its workers without the seconds of
    importing torch and the OpenMMLab stack."""
    import sau_mm  # noqa: F401


# The files that take longest, longest first. pytest-xdist (--dist loadfile)
# hands files to the workers in collection order, so these start at once and
# the short files fill the other workers around them; in a single process
# the order changes nothing.
LONGEST_FIRST = ('test_pipeline.py', 'test_gpu_check.py',
                 'test_device_path.py', 'test_sau_training.py',
                 'test_train_baselines.py', 'test_diffult_ddpm.py')


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(
            LONGEST_FIRST)
    items.sort(key=rank)  # stable: each file's own order is kept


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


# ------------------------------------------------------- generated data
@pytest.fixture(scope='session')
def cifar10_pickles(tmp_path_factory):
    """``make(train_per_class, test_per_class)``: the data_root of generated
    CIFAR-10 pickles of that size (tests.support.data.make_cifar, seed 0),
    made once per size for the whole session. Read-only: tests that change
    data make their own."""
    made = {}

    def make(train_per_class: int, test_per_class: int) -> str:
        key = (train_per_class, test_per_class)
        if key not in made:
            folder = tmp_path_factory.mktemp(
                f'cifar10_{train_per_class}x{test_per_class}_')
            from tests.support.data import make_cifar
            made[key] = make_cifar(str(folder), 'cifar10', 10,
                                   train_per_class=train_per_class,
                                   test_per_class=test_per_class)
        return made[key]
    return make


@pytest.fixture(scope='session')
def sau_data(cifar10_pickles, tmp_path_factory):
    """(data_root, synthetic manifest) of the tiny SAU runs: CIFAR-10
    pickles with 12 training / 2 test images per class and 12 generated
    images per class (tests.support.data.make_synthetic_manifest)."""
    from tests.support.data import make_synthetic_manifest
    manifest = make_synthetic_manifest(
        str(tmp_path_factory.mktemp('sau_synthetic')), [12] * 10)
    return cifar10_pickles(12, 2), manifest


# ------------------------------------------------- tiny generation models
@pytest.fixture(scope='session')
def tiny_sd_pipeline(tmp_path_factory):
    """The folder of a random tiny StableDiffusionPipeline
    (tests.support.generation.make_tiny_pipeline), built once. Read-only."""
    from tests.support.generation import make_tiny_pipeline, one_torch_thread
    with one_torch_thread():
        return make_tiny_pipeline(str(tmp_path_factory.mktemp('tiny_sd')))


@pytest.fixture(scope='session')
def tiny_clip(tmp_path_factory):
    """(config file, checkpoint, model name) of a random tiny open_clip
    model (tests.support.generation.make_tiny_clip), built and registered
    once. Read-only."""
    from tests.support.generation import make_tiny_clip
    return make_tiny_clip(str(tmp_path_factory.mktemp('tiny_clip')))


@pytest.fixture(scope='session')
def tiny_ddpm():
    """A random DiffuLT ClassConditionalDDPM of 4 classes and 8x8 images
    (a 2-level UNet, seed 0), in eval mode. Tests may wrap its methods
    (monkeypatch, undone after) but not change its weights."""
    import torch
    from mmengine.registry import init_default_scope

    from sau_mm.generation.diffult import ClassConditionalDDPM
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    return ClassConditionalDDPM(
        4,
        dict(sample_size=8, block_out_channels=(8, 16),
             down_block_types=('DownBlock2D', 'AttnDownBlock2D'),
             up_block_types=('AttnUpBlock2D', 'UpBlock2D'),
             layers_per_block=1, norm_num_groups=4, attention_head_dim=None),
        data_preprocessor=dict(type='ClsDataPreprocessor', mean=[127.5] * 3,
                               std=[127.5] * 3)).eval()
