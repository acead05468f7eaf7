"""tools/prepare_data.py: download (file:// URL) or local archive, md5 check,
layout and count verification, idempotent re-runs, the ImageNet-LT check."""
import dataclasses
import hashlib
import os
import os.path as osp
import runpy
import sys
import tarfile

import pytest

from sau_mm.datasets import prepare
from sau_mm.datasets.prepare import (ARCHIVES, PrepareError,
                                     check_imagenet_lt, prepare_archive,
                                     target_dir)
from sau_mm.datasets.sources import read_cifar

from tests.support import CIFAR10_JPEG_ARCHIVE
from tests.support.data import make_cifar, make_image_folder, make_split_file

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOL = osp.join(ROOT, 'tools', 'prepare_data.py')


def md5(path):
    return hashlib.md5(open(path, 'rb').read()).hexdigest()


def tar_folder(folder, archive):
    """``archive`` (.tar.gz) holding ``folder`` as its one top folder."""
    with tarfile.open(archive, 'w:gz') as tar:
        tar.add(folder, arcname=osp.basename(folder))
    return str(archive)


@pytest.fixture
def cifar10_archive(tmp_path, monkeypatch):
    """A small cifar-10-python.tar.gz in the real python-version format (3
    train / 2 test images per class), served by file:// URL: ARCHIVES
    ['cifar10'] points at it with its md5 and counts."""
    src = make_cifar(str(tmp_path / 'src'), 'cifar10', 10, train_per_class=3,
                     test_per_class=2)
    archive = tar_folder(osp.join(src, 'cifar-10-batches-py'),
                         tmp_path / 'cifar-10-python.tar.gz')
    spec = dataclasses.replace(
        ARCHIVES['cifar10'], url=f'file://{archive}', md5=md5(archive),
        per_class={'train': 3, 'test': 2})
    monkeypatch.setitem(ARCHIVES, 'cifar10', spec)
    return archive


def run_tool(monkeypatch, *args):
    monkeypatch.setattr(sys, 'argv', [TOOL, *args])
    runpy.run_path(TOOL, run_name='__main__')


def test_download_md5_unpack_verify_and_rerun_is_a_no_op(
        cifar10_archive, tmp_path, capsys):
    data = str(tmp_path / 'data')
    target = prepare_archive('cifar10', data)
    assert target == osp.join(data, 'cifar10', 'cifar-10-batches-py')
    downloaded = osp.join(data, 'cifar10', 'cifar-10-python.tar.gz')
    assert md5(downloaded) == md5(cifar10_archive)
    # the layout the CIFAR-10 configs read (data_root data/cifar10)
    classes, samples = read_cifar(osp.join(data, 'cifar10'), 'cifar10',
                                  'train')
    assert len(classes) == 10 and len(samples) == 30
    assert 'verified cifar10 (train 30 images (10 classes x 3), test 20 ' \
        'images (10 classes x 2))' in capsys.readouterr().out
    # nothing left besides the archive and the data (no scratch folder)
    assert sorted(os.listdir(osp.join(data, 'cifar10'))) == [
        'cifar-10-batches-py', 'cifar-10-python.tar.gz']
    os.remove(cifar10_archive)  # a re-run downloads nothing
    mtime = os.stat(osp.join(target, 'data_batch_1')).st_mtime_ns
    assert prepare_archive('cifar10', data) == target
    assert 'already holds the verified cifar10' in capsys.readouterr().out
    assert os.stat(osp.join(target, 'data_batch_1')).st_mtime_ns == mtime


def test_wrong_md5_is_an_error_naming_the_file_and_both_sums(
        cifar10_archive, tmp_path, monkeypatch):
    monkeypatch.setitem(ARCHIVES, 'cifar10', dataclasses.replace(
        ARCHIVES['cifar10'], md5='0' * 32))
    data = str(tmp_path / 'data')
    with pytest.raises(PrepareError) as e:
        prepare_archive('cifar10', data)
    downloaded = osp.join(data, 'cifar10', 'cifar-10-python.tar.gz')
    message = str(e.value)
    assert downloaded in message
    assert md5(cifar10_archive) in message and '0' * 32 in message
    assert 'Delete it and run again' in message
    assert not osp.exists(target_dir('cifar10', data))
    # a local copy: the same check, the advice to get a fresh copy
    with pytest.raises(PrepareError, match='Get a fresh copy'):
        prepare_archive('cifar10', data, archive=cifar10_archive)


def test_local_archive_through_the_tool(cifar10_archive, tmp_path,
                                        monkeypatch, capsys):
    monkeypatch.setitem(ARCHIVES, 'cifar10', dataclasses.replace(
        ARCHIVES['cifar10'], url='file:///nonexistent/not-used.tar.gz'))
    data = str(tmp_path / 'data')
    run_tool(monkeypatch, 'cifar10', '--archive', cifar10_archive,
             '--data-root', data)
    assert f'md5 {md5(cifar10_archive)} matches' in capsys.readouterr().out
    assert not osp.exists(osp.join(data, 'cifar10', 'cifar-10-python.tar.gz'))
    _, samples = read_cifar(osp.join(data, 'cifar10'), 'cifar10', 'test')
    assert len(samples) == 20
    with pytest.raises(SystemExit, match='Archive .*missing.tar.gz not found'):
        run_tool(monkeypatch, 'cifar100', '--archive',
                 str(tmp_path / 'missing.tar.gz'), '--data-root', data)


def test_wrong_layout_and_incomplete_archive_leave_nothing_behind(
        tmp_path, monkeypatch):
    src = make_cifar(str(tmp_path / 'src'), 'cifar10', 10, 3, 2)
    renamed = osp.join(src, 'cifar-10-batches')
    os.rename(osp.join(src, 'cifar-10-batches-py'), renamed)
    wrong = tar_folder(renamed, tmp_path / 'wrong.tar.gz')
    data = str(tmp_path / 'data')
    monkeypatch.setitem(ARCHIVES, 'cifar10', dataclasses.replace(
        ARCHIVES['cifar10'], md5=md5(wrong), per_class={'train': 3,
                                                        'test': 2}))
    with pytest.raises(PrepareError, match=r"top-level entries are "
                       r"\['cifar-10-batches'\], expected only the folder "
                       r"cifar-10-batches-py/"):
        prepare_archive('cifar10', data, archive=wrong)
    # right layout, but 3 train images per class where 4 are expected
    os.rename(renamed, osp.join(src, 'cifar-10-batches-py'))
    short = tar_folder(osp.join(src, 'cifar-10-batches-py'),
                       tmp_path / 'short.tar.gz')
    monkeypatch.setitem(ARCHIVES, 'cifar10', dataclasses.replace(
        ARCHIVES['cifar10'], md5=md5(short), per_class={'train': 4,
                                                        'test': 2}))
    with pytest.raises(PrepareError, match='unpacked to an incomplete '
                       'cifar10: train: 10 of 10 classes do not have 4 images'):
        prepare_archive('cifar10', data, archive=short)
    assert os.listdir(osp.join(data, 'cifar10')) == []  # no scratch left


def test_existing_incomplete_folder_is_not_overwritten(cifar10_archive,
                                                       tmp_path):
    data = str(tmp_path / 'data')
    target = prepare_archive('cifar10', data)
    os.remove(osp.join(target, 'test_batch'))
    with pytest.raises(PrepareError, match='exists but is not a complete '
                       'cifar10: .*test_batch.*Delete it and run again'):
        prepare_archive('cifar10', data)


@pytest.fixture
def jpeg_archive(tmp_path, monkeypatch):
    """A small cifar10-jpeg.tar.gz: cifar10-jpeg/{train,test}/<class>/NNNN.jpg,
    2 / 1 images for each of 10 classes."""
    folder = tmp_path / 'src' / 'cifar10-jpeg'
    make_image_folder(str(folder), [2] * 10, 'train', ext='jpg')
    make_image_folder(str(folder), [1] * 10, 'test', ext='jpg')
    archive = tar_folder(str(folder), tmp_path / 'cifar10-jpeg.tar.gz')
    monkeypatch.setitem(ARCHIVES, 'cifar10-jpeg', dataclasses.replace(
        ARCHIVES['cifar10-jpeg'], md5=md5(archive),
        per_class={'train': 2, 'test': 1}))
    return archive


def test_cifar10_jpeg_from_local_archive(jpeg_archive, tmp_path, monkeypatch,
                                         capsys):
    data = str(tmp_path / 'data')
    run_tool(monkeypatch, 'cifar10-jpeg', '--archive', jpeg_archive,
             '--data-root', data)
    target = osp.join(data, 'cifar10-jpeg')
    assert sorted(os.listdir(osp.join(target, 'train', 'class_3'))) == [
        '0000.jpg', '0001.jpg']
    assert 'verified cifar10-jpeg (train 20 images (10 classes x 2), ' \
        'test 10 images (10 classes x 1))' in capsys.readouterr().out
    run_tool(monkeypatch, 'cifar10-jpeg', '--archive', jpeg_archive,
             '--data-root', data)
    assert 'nothing to do' in capsys.readouterr().out
    os.remove(osp.join(target, 'test', 'class_7', '0000.jpg'))
    with pytest.raises(SystemExit, match=r'test: 1 of 10 classes do not have 1 '
                       r'images \(class_7: 0\)'):
        run_tool(monkeypatch, 'cifar10-jpeg', '--data-root', data)


def test_cifar10_jpeg_without_archive_says_it_is_not_downloadable(
        tmp_path, monkeypatch):
    with pytest.raises(SystemExit, match='cifar10-jpeg is not downloadable: '
                       'cifar10-jpeg.tar.gz is a local archive .*--archive'):
        run_tool(monkeypatch, 'cifar10-jpeg', '--data-root',
                 str(tmp_path / 'data'))


def test_real_cifar10_jpeg_matches_its_spec(cifar10_jpeg_root):
    """The published md5 and counts of the real archive (the folder the
    session fixture provides, and the archive itself where it is)."""
    spec = ARCHIVES['cifar10-jpeg']
    assert prepare.verify(cifar10_jpeg_root, spec) == []
    if osp.isfile(CIFAR10_JPEG_ARCHIVE):
        assert md5(CIFAR10_JPEG_ARCHIVE) == spec.md5


def imagenet_lt_folder(root):
    """ImageNet_LT_{train,val,test}.txt over images under root/images."""
    make_split_file(root, [3, 2, 1], name='ImageNet_LT_train.txt')
    make_split_file(root, [1, 1, 1], name='ImageNet_LT_val.txt')
    make_split_file(root, [2, 2, 2], name='ImageNet_LT_test.txt')
    return root


def test_imagenet_lt_check_names_missing_files(tmp_path, monkeypatch,
                                                capsys):
    root = imagenet_lt_folder(str(tmp_path / 'imagenet'))
    checks = check_imagenet_lt(root)
    assert [(c.split, c.listed, c.classes, c.missing) for c in checks] == [
        ('train', 6, 3, []), ('val', 3, 3, []), ('test', 6, 3, [])]
    run_tool(monkeypatch, 'imagenet-lt', '--data-root', root)
    out = capsys.readouterr().out
    assert 'OpenLongTailRecognition-OLTR' in out and 'ILSVRC2012' in out
    assert 'train: 6 images listed (3 classes), 6 found (the standard ' \
        'split file lists 115846)' in out
    assert 'every image of the ImageNet-LT split files is there' in out

    os.remove(osp.join(root, 'images', 'n00000000', '0001.jpg'))
    os.remove(osp.join(root, 'images', 'n00000002', '0000.jpg'))
    os.remove(osp.join(root, 'ImageNet_LT_val.txt'))
    with pytest.raises(SystemExit, match='is incomplete'):
        run_tool(monkeypatch, 'imagenet-lt', '--data-root', root)
    out = capsys.readouterr().out
    assert ('train: 6 images listed (3 classes), 4 found (the standard split '
            'file lists 115846); 2 missing, first 2: '
            'images/n00000000/0001.jpg, images/n00000002/0000.jpg') in out
    assert f'val: {osp.join(root, "ImageNet_LT_val.txt")} not found' in out
    assert 'test: 6 images listed (3 classes), 4 found' in out


def test_imagenet_lt_check_of_a_missing_folder(tmp_path, monkeypatch):
    with pytest.raises(SystemExit, match='nowhere is not a folder'):
        run_tool(monkeypatch, 'imagenet-lt', '--data-root',
                 str(tmp_path / 'nowhere'))


def test_cifar100_local_archive_into_the_config_layout(tmp_path, monkeypatch):
    src = make_cifar(str(tmp_path / 'src'), 'cifar100', 100,
                     train_per_class=1, test_per_class=1)
    archive = tar_folder(osp.join(src, 'cifar-100-python'),
                         tmp_path / 'cifar-100-python.tar.gz')
    monkeypatch.setitem(ARCHIVES, 'cifar100', dataclasses.replace(
        ARCHIVES['cifar100'], md5=md5(archive),
        per_class={'train': 1, 'test': 1}))
    data = str(tmp_path / 'data')
    assert prepare_archive('cifar100', data, archive=archive) == osp.join(
        data, 'cifar100', 'cifar-100-python')
    classes, samples = read_cifar(osp.join(data, 'cifar100'), 'cifar100',
                                  'test')
    assert len(classes) == 100 and len(samples) == 100
