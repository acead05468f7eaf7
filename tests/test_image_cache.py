"""The decoded-image cache (sau_mm.datasets.image_cache) on generated data."""
import json
import multiprocessing
import os
import os.path as osp
import socket
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from sau_mm.datasets import LongTailSyntheticDataset, build_or_load, cache_key
from sau_mm.datasets import image_cache
from sau_mm.datasets.manifest import read_manifest, write_manifest
from sau_mm.datasets.transforms import LoadImage

from tests.support.data import (make_cifar, make_image_folder,
                                make_synthetic_manifest)


# ------------------------------------------------------------------ helpers
@pytest.fixture
def data(tmp_path):
    """An image folder (LT via IF), a CIFAR pickle root and a manifest."""
    root = make_image_folder(str(tmp_path / 'folder'), [10, 10, 10])
    cifar = make_cifar(str(tmp_path / 'cifar'), num_classes=3,
                       train_per_class=10)
    manifest = make_synthetic_manifest(str(tmp_path / 'synth'), [4, 8, 10])
    return dict(root=root, cifar=cifar, manifest=manifest,
                cache=str(tmp_path / 'cache'))


def folder_ds(data, **kw):
    args = dict(data_root=data['root'], source='image_folder',
                imbalance_factor=4, synthetic_manifest=data['manifest'])
    args.update(kw)
    return LongTailSyntheticDataset(**args)


def cifar_ds(data, **kw):
    args = dict(data_root=data['cifar'], source='cifar10', num_classes=3,
                imbalance_factor=5, synthetic_manifest=data['manifest'])
    args.update(kw)
    return LongTailSyntheticDataset(**args)


def reference(ds):
    """Images one by one through LoadImage, labels and flags."""
    load = LoadImage()
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    images = np.stack([load(dict(info))['img'] for info in infos])
    return (images, np.array([i['gt_label'] for i in infos]),
            np.array([i['is_synthetic'] for i in infos]))


@pytest.fixture
def decodes(monkeypatch):
    """Counts the images decoded by the cache."""
    calls = []
    real = image_cache._decode

    def counting(info):
        calls.append(1)
        return real(info)

    monkeypatch.setattr(image_cache, '_decode', counting)
    return calls


@pytest.fixture
def logs(monkeypatch):
    messages = []
    monkeypatch.setattr(image_cache, 'print_log',
                        lambda msg, **kw: messages.append(msg))
    return messages


def cache_entries(cache):
    return sorted(os.listdir(cache))


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


# -------------------------------------------------------------- contents
@pytest.mark.parametrize('make', [folder_ds, cifar_ds])
def test_array_equals_loadimage_and_dataset_order(data, make, decodes):
    ds = make(data)
    assert ds.num_real < len(ds)  # real and synthetic samples
    got = build_or_load(ds, data['cache'], image_size=32, num_workers=2)
    images, labels, flags = reference(ds)
    assert isinstance(got.images, np.memmap)
    assert not got.images.flags.writeable
    assert got.images.dtype == np.uint8 and got.images.shape == images.shape
    np.testing.assert_array_equal(got.images, images)
    np.testing.assert_array_equal(got.labels, labels)
    np.testing.assert_array_equal(got.is_synthetic, flags)
    assert got.labels.dtype == np.int64 and got.is_synthetic.dtype == bool
    assert not got.is_synthetic[:ds.num_real].any()
    assert got.is_synthetic[ds.num_real:].all()
    assert len(decodes) == len(ds)
    assert cache_entries(data['cache']) == [got.key]
    meta = json.load(open(osp.join(got.path, 'meta.json')))
    assert meta['key'] == got.key == cache_key(ds, 32)
    assert meta['shape'] == list(images.shape)
    assert meta['num_real'] == ds.num_real
    assert meta['class_counts'] == ds.class_counts
    # the second call loads: no decode, same array
    decodes.clear()
    again = build_or_load(ds, data['cache'], image_size=32)
    assert decodes == []
    np.testing.assert_array_equal(again.images, images)
    assert again.key == got.key


def test_wrapped_dataset_and_size_none(data):
    class Wrapper:
        def __init__(self, dataset):
            self.dataset = dataset

    ds = folder_ds(data)
    got = build_or_load(Wrapper(ds), data['cache'])
    assert got.images.shape == (len(ds), 32, 32, 3)
    assert got.key == cache_key(ds, None) != cache_key(ds, 32)


# -------------------------------------------------------------- the key
def rewrite_first_real(ds):
    path = ds.get_data_info(0)['img_path']
    img = np.asarray(Image.open(path)).copy()
    img[0, 0] = 255 - img[0, 0]
    Image.fromarray(img).save(path)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    return path


def touch_first_real(ds):
    path = ds.get_data_info(0)['img_path']
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def change_manifest(ds):
    records = read_manifest(ds.synthetic_manifest)
    records[-1].score = 0.5  # a record the dataset does not even select
    write_manifest(ds.synthetic_manifest, records)


@pytest.mark.parametrize('change', ['file_bytes', 'file_mtime', 'manifest',
                                    'imbalance_factor', 'subset_seed',
                                    'image_size', 'cifar_pixels'])
def test_changed_input_gives_new_key_and_rebuild(data, change, decodes):
    make = cifar_ds if change == 'cifar_pixels' else folder_ds
    ds = make(data)
    first = build_or_load(ds, data['cache'], image_size=32)
    size, kw = 32, {}
    if change == 'file_bytes':
        rewrite_first_real(ds)
    elif change == 'file_mtime':
        touch_first_real(ds)
    elif change == 'manifest':
        change_manifest(ds)
    elif change == 'imbalance_factor':
        kw = dict(imbalance_factor=2)
    elif change == 'subset_seed':
        kw = dict(subset_seed=1)
    elif change == 'image_size':
        assert cache_key(ds, 32) == cache_key(ds, (32, 32))
        size = None
    elif change == 'cifar_pixels':
        make_cifar(data['cifar'], num_classes=3, train_per_class=10, seed=7)
    ds = make(data, **kw)
    decodes.clear()
    second = build_or_load(ds, data['cache'], image_size=size)
    assert second.key != first.key
    assert len(decodes) == len(ds)  # rebuilt
    assert sorted(cache_entries(data['cache'])) == sorted([first.key,
                                                           second.key])
    np.testing.assert_array_equal(second.images, reference(ds)[0])


def test_any_other_sample_field_is_in_the_key(data):
    """E.g. a per-sample resize target that LoadImage reads."""
    ds = folder_ds(data, serialize_data=False)
    key = cache_key(ds)
    ds.data_list[0]['resize_to'] = (16, 16)
    assert cache_key(ds) != key


# ------------------------------------------------------ corrupt caches
def truncate(folder):
    path = osp.join(folder, 'images.npy')
    with open(path, 'r+b') as f:
        f.truncate(osp.getsize(path) - 100)


def delete_meta(folder):
    os.remove(osp.join(folder, 'meta.json'))


def flip_byte(folder):
    path = osp.join(folder, 'images.npy')
    with open(path, 'r+b') as f:
        f.seek(osp.getsize(path) - 5000)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))


def leftover_temp(folder):
    """An interrupted build: only a temp folder of a dead process."""
    cache, key = osp.split(folder)
    tmp = osp.join(cache, f'.tmp-{key}-{socket.gethostname()}-'
                   f'{dead_pid()}-deadbeef')
    os.rename(folder, tmp)
    os.remove(osp.join(tmp, 'meta.json'))
    truncate(tmp)


@pytest.mark.parametrize('corrupt, reason', [
    (truncate, 'truncated'), (delete_meta, 'meta.json is missing'),
    (flip_byte, 'checksum mismatch'), (leftover_temp, 'leftover')])
def test_corrupt_cache_detected_and_rebuilt(data, corrupt, reason, decodes,
                                            logs):
    ds = folder_ds(data)
    first = build_or_load(ds, data['cache'], image_size=32)
    corrupt(first.path)
    decodes.clear()
    logs.clear()
    second = build_or_load(ds, data['cache'], image_size=32)
    assert any(reason in m for m in logs), logs
    assert len(decodes) == len(ds)
    np.testing.assert_array_equal(second.images, reference(ds)[0])
    assert cache_entries(data['cache']) == [first.key]  # nothing left over
    decodes.clear()
    build_or_load(ds, data['cache'], image_size=32)
    assert decodes == []


def test_verify_false_skips_only_the_checksum(data, decodes):
    ds = folder_ds(data)
    first = build_or_load(ds, data['cache'])
    flip_byte(first.path)
    decodes.clear()
    build_or_load(ds, data['cache'], verify=False)
    assert decodes == []
    truncate(first.path)
    build_or_load(ds, data['cache'], verify=False)
    assert len(decodes) == len(ds)


def test_temp_folder_of_a_running_build_is_kept(data, logs):
    ds = folder_ds(data)
    key = cache_key(ds)
    os.makedirs(data['cache'])
    running = osp.join(data['cache'], f'.tmp-{key}-{socket.gethostname()}-'
                       f'{os.getppid()}-cafe0000')
    os.makedirs(running)
    build_or_load(ds, data['cache'])
    assert osp.isdir(running)
    assert not any('leftover' in m for m in logs)


# ------------------------------------------------------------ concurrency
def test_final_folder_appearing_during_build_is_kept(data, monkeypatch,
                                                     logs):
    """Another builder commits while we decode: our rename loses, we keep
    theirs and clean up."""
    ds = folder_ds(data)
    real = image_cache._decode
    state = dict(nested=False)

    def decode(info):
        if not state['nested']:
            state['nested'] = True
            image_cache.build_or_load(ds, data['cache'])  # the "other" one
        return real(info)

    monkeypatch.setattr(image_cache, '_decode', decode)
    got = build_or_load(ds, data['cache'])
    assert any('committed' in m for m in logs), logs
    assert cache_entries(data['cache']) == [got.key]
    np.testing.assert_array_equal(got.images, reference(ds)[0])


def _build_in_child(ds, cache, barrier, queue):
    real = image_cache._decode

    def slow(info):
        import time
        time.sleep(0.005)
        return real(info)

    image_cache._decode = slow
    barrier.wait()
    got = build_or_load(ds, cache, num_workers=1)
    queue.put((got.key, int(got.images.astype(np.int64).sum())))


def test_two_processes_building_at_once(data):
    ds = folder_ds(data)
    ctx = multiprocessing.get_context('fork')
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_build_in_child,
                         args=(ds, data['cache'], barrier, queue))
             for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    expected = int(reference(ds)[0].astype(np.int64).sum())
    assert results == [(cache_key(ds), expected)] * 2
    assert cache_entries(data['cache']) == [cache_key(ds)]


def test_ddp_rank0_builds_others_wait_then_load(data, monkeypatch, decodes):
    ds = folder_ds(data)
    barriers = []
    monkeypatch.setattr(image_cache.mm_dist, 'get_dist_info', lambda: (1, 2))
    monkeypatch.setattr(image_cache.mm_dist, 'get_rank', lambda: 1)
    monkeypatch.setattr(image_cache.mm_dist, 'barrier',
                        lambda: barriers.append(1))
    monkeypatch.setattr(image_cache, '_local_rank', lambda: 1)
    with pytest.raises(RuntimeError, match='Rank 1.*local rank 0'):
        build_or_load(ds, data['cache'])
    assert decodes == [] and barriers == [1]
    monkeypatch.setattr(image_cache, '_local_rank', lambda: 0)
    built = build_or_load(ds, data['cache'])  # the builder
    assert len(decodes) == len(ds) and barriers == [1, 1]
    decodes.clear()
    monkeypatch.setattr(image_cache, '_local_rank', lambda: 1)
    loaded = build_or_load(ds, data['cache'])
    assert decodes == [] and barriers == [1, 1, 1]
    np.testing.assert_array_equal(loaded.images, built.images)


# -------------------------------------------------------------- sizes
def test_wrong_size_image_is_a_clear_error(data):
    path = osp.join(data['root'], 'train', 'class_0', '0003.png')
    Image.fromarray(np.zeros((36, 32, 3), np.uint8)).save(path)
    ds = folder_ds(data, imbalance_factor=None, synthetic_manifest=None)
    with pytest.raises(ValueError, match=r"0003\.png.*36x32.*image_size=\(32"):
        build_or_load(ds, data['cache'], image_size=32)
    with pytest.raises(ValueError,
                       match=r"0003\.png.*36x32.*image_size=None.*first"):
        build_or_load(ds, data['cache'])
    assert cache_entries(data['cache']) == []  # no cache, no temp folder
