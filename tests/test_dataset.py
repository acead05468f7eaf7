import json
import os.path as osp

import numpy as np
import pytest
from mmpretrain.registry import DATASETS

from PIL import Image

from sau_mm.datasets.long_tail import long_tail_counts
from sau_mm.datasets.sources import read_cifar

from tests.support.data import (cifar_as_image_folder, make_cifar,
                                make_image_folder, make_split_file,
                                make_synthetic_manifest)

PIPE = [dict(type='LoadImage'),
        dict(type='PackInputs', algorithm_keys=['is_synthetic'])]


def build(**kwargs):
    cfg = dict(type='LongTailSyntheticDataset', pipeline=PIPE)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


@pytest.fixture(scope='module')
def cifar10(tmp_path_factory):
    return make_cifar(str(tmp_path_factory.mktemp('c10')), 'cifar10', 10, 40)


def test_cifar10_pickles_long_tail_subset(cifar10):
    ds = build(data_root=cifar10, source='cifar10', imbalance_factor=10,
               num_classes=10)
    assert ds.real_class_counts == long_tail_counts(40, 10, 10)
    assert len(ds) == sum(long_tail_counts(40, 10, 10))
    item = ds[0]
    assert item['inputs'].shape == (3, 32, 32)
    assert item['data_samples'].is_synthetic is False
    test = build(data_root=cifar10, source='cifar10', split='test',
                 test_mode=True)
    assert len(test) == 50 and test.metainfo['classes'][3] == 'class_3'


def test_cifar100_pickles(tmp_path):
    root = make_cifar(str(tmp_path), 'cifar100', 100, 6, 1)
    ds = build(data_root=root, source='cifar100', imbalance_factor=3,
               num_classes=100)
    assert ds.real_class_counts == long_tail_counts(6, 100, 3)


def test_image_folder_and_synthetic_fill(tmp_path):
    root = make_image_folder(str(tmp_path / 'data'), [12, 6, 3])
    manifest = make_synthetic_manifest(str(tmp_path / 'syn'), [4, 8, 9])
    ds = build(data_root=root, source='image_folder',
               synthetic_manifest=manifest)
    # target = largest real class (12): needs 0, 6, 9.
    assert ds.real_class_counts == [12, 6, 3]
    assert ds.synthetic_class_counts == [0, 6, 9]
    assert ds.class_counts == [12, 12, 12]
    flags = [ds.get_data_info(i)['is_synthetic'] for i in range(len(ds))]
    assert flags == [False] * 21 + [True] * 15
    assert [ds.get_data_info(i)['sample_idx'] for i in range(len(ds))] == \
        list(range(36))
    assert ds[30]['data_samples'].is_synthetic is True
    ds2 = build(data_root=root, source='image_folder',
                synthetic_manifest=manifest, target_count=10)
    assert ds2.synthetic_class_counts == [0, 4, 7]


def test_too_few_synthetic_images(tmp_path):
    root = make_image_folder(str(tmp_path / 'data'), [12, 6, 3])
    manifest = make_synthetic_manifest(str(tmp_path / 'syn'), [0, 2, 9])
    with pytest.raises(ValueError, match=r'class 1 \(class_1\): 2/6'):
        build(data_root=root, source='image_folder',
              synthetic_manifest=manifest)
    ds = build(data_root=root, source='image_folder',
               synthetic_manifest=manifest, allow_partial_fill=True)
    assert ds.synthetic_class_counts == [0, 2, 9]


def test_partial_fill_names_the_classes_that_get_no_synthetic_image(
        tmp_path, monkeypatch):
    """A filtered manifest without any image of classes 7 and 8 (beyond the
    first INLINE short classes): the partial-fill warning names them."""
    import sau_mm.datasets.lt_synthetic_dataset as lt
    logged = []
    monkeypatch.setattr(lt, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    root = make_image_folder(str(tmp_path / 'data'), [12] + [2] * 8)
    manifest = make_synthetic_manifest(str(tmp_path / 'syn'),
                                       [0] + [5] * 6 + [0, 0])
    ds = build(data_root=root, source='image_folder',
               synthetic_manifest=manifest, allow_partial_fill=True)
    assert ds.synthetic_class_counts == [0] + [5] * 6 + [0, 0]
    line = next(m for m in logged if m.startswith('Partial synthetic fill'))
    assert line.startswith(
        'Partial synthetic fill to 12: 8 of 9 classes short, 50 images '
        'missing (have/needed: class 1 (class_1): 5/10, ')
    assert line.endswith('); 2 classes get no synthetic image: 7 '
                         '(class_7), 8 (class_8).')
    with pytest.raises(ValueError, match=r'; 2 classes get no synthetic '
                       r'image: 7 \(class_7\), 8 \(class_8\)\. Generate'):
        build(data_root=root, source='image_folder',
              synthetic_manifest=manifest)


def test_synthetic_file_missing_corrupt_or_bad_label(tmp_path):
    root = make_image_folder(str(tmp_path / 'data'), [4, 2])
    manifest = make_synthetic_manifest(str(tmp_path / 'syn'), [0, 2])
    bad = str(tmp_path / 'syn' / 'images' / '1' / '000001.png')
    with open(bad, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n garbage')
    with pytest.raises(ValueError, match='000001.png.*corrupt'):
        build(data_root=root, source='image_folder',
              synthetic_manifest=manifest)
    import os
    os.remove(bad)
    with pytest.raises(FileNotFoundError, match='000001.png.*does not exist'):
        build(data_root=root, source='image_folder',
              synthetic_manifest=manifest)
    with open(manifest, 'w') as f:
        f.write(json.dumps(dict(path='images/1/000000.png', label=7,
                                source='x')) + '\n')
    with pytest.raises(ValueError, match='label 7 is outside'):
        build(data_root=root, source='image_folder',
              synthetic_manifest=manifest)
    with pytest.raises(FileNotFoundError, match='generate_synthetic.py'):
        build(data_root=root, source='image_folder',
              synthetic_manifest=str(tmp_path / 'nope.jsonl'))


def test_an_image_listed_twice_is_an_error_naming_both_lines(tmp_path):
    root = make_image_folder(str(tmp_path / 'data'), [6, 2])
    manifest = make_synthetic_manifest(str(tmp_path / 'syn'), [0, 4])
    lines = open(manifest).read().splitlines()
    # line 5 repeats line 2's image by its absolute path, after a blank line
    again = dict(json.loads(lines[1]),
                 path=str(tmp_path / 'syn' / json.loads(lines[1])['path']))
    with open(manifest, 'w') as f:
        f.write('\n'.join(lines[:3] + ['', json.dumps(again)]) + '\n')
    with pytest.raises(ValueError) as err:
        build(data_root=root, source='image_folder',
              synthetic_manifest=manifest)
    image = str(tmp_path / 'syn' / 'images' / '1' / '000001.png')
    assert str(err.value) == (
        f'{manifest}: lines 2 and 5 both list the image {image!r}, so it '
        'would be used twice. Remove one of the two lines.')
    with open(manifest, 'w') as f:  # without the repeat: 3 images
        f.write('\n'.join(lines[:3]) + '\n')
    ds = build(data_root=root, source='image_folder',
               synthetic_manifest=manifest, allow_partial_fill=True)
    assert ds.synthetic_class_counts == [0, 3]


def test_a_manifest_that_adds_nothing_says_why(tmp_path, monkeypatch):
    import sau_mm.datasets.lt_synthetic_dataset as lt
    logged = []
    monkeypatch.setattr(lt, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    root = make_image_folder(str(tmp_path / 'data'), [5, 5, 4])
    manifest = make_synthetic_manifest(str(tmp_path / 'syn'), [2, 2, 2])
    ds = build(data_root=root, source='image_folder',
               synthetic_manifest=manifest, target_count=4)
    assert ds.synthetic_class_counts == [0, 0, 0]
    msg, kw = next((m, k) for m, k in logged if 'adds no image' in m)
    assert msg == (
        f'Synthetic manifest {manifest} adds no image to the train set: '
        'every class already has 4 or more real images (4..5; the fill '
        'target 4 is target_count), so no class needs a synthetic image. '
        'Set target_count above 5 to fill every class up to it. This run '
        'trains on the 14 real images only.')
    assert kw['level'] == 30
    logged.clear()
    assert build(data_root=root, source='image_folder',
                 synthetic_manifest=manifest).synthetic_class_counts == \
        [0, 0, 1]  # fills class 2 to 5: no warning
    assert not [m for m, _ in logged if 'adds no image' in m]
    open(manifest, 'w').close()
    build(data_root=root, source='image_folder', synthetic_manifest=manifest,
          target_count=4)
    assert [m for m, _ in logged if 'adds no image' in m] == [
        f'Synthetic manifest {manifest} adds no image to the train set: it '
        'lists no image. This run trains on the 14 real images only.']


def test_split_file(tmp_path):
    split = make_split_file(str(tmp_path), [5, 3, 1])
    ds = build(data_root=str(tmp_path), source='split_file',
               split_file='train.txt', num_classes=3)
    assert ds.real_class_counts == [5, 3, 1]
    assert ds[0]['inputs'].shape == (3, 32, 32)
    with open(split, 'a') as f:
        f.write('images/missing.jpg 2\n')
    with pytest.raises(FileNotFoundError, match='line 10.*missing.jpg'):
        build(data_root=str(tmp_path), source='split_file',
              split_file='train.txt')


def test_bad_inputs_get_clear_errors(tmp_path, cifar10):
    with pytest.raises(FileNotFoundError, match='Data preparation'):
        build(data_root=str(tmp_path / 'nowhere'), source='cifar10')
    with pytest.raises(ValueError, match='imbalance_factor must be >= 1'):
        build(data_root=cifar10, source='cifar10', imbalance_factor=0.5)
    with pytest.raises(ValueError, match=r"subset_method must be one of "
                       r"\('ldam', 'seeded_choice'\), got 'choice'"):
        build(data_root=cifar10, source='cifar10', imbalance_factor=5,
              subset_method='choice')
    with pytest.raises(ValueError, match='num_classes=100 disagrees'):
        build(data_root=cifar10, source='cifar10', num_classes=100)
    root = make_image_folder(str(tmp_path / 'f'), [3, 2])
    (tmp_path / 'f' / 'train' / 'class_9').mkdir()
    with pytest.raises(ValueError, match='class_9.*has no images'):
        build(data_root=root, source='image_folder')


@pytest.mark.parametrize('method', ['ldam', 'seeded_choice'])
def test_real_selection_matches_seed_and_is_logged(cifar10, monkeypatch,
                                                   method):
    import sau_mm.datasets.lt_synthetic_dataset as lt
    logged = []
    monkeypatch.setattr(lt, 'print_log',
                        lambda msg, **kw: logged.append(str(msg)))
    a = build(data_root=cifar10, source='cifar10', imbalance_factor=5,
              subset_method=method)
    b = build(data_root=cifar10, source='cifar10', imbalance_factor=5,
              subset_method=method)
    paths_a = [a.get_data_info(i)['img'].sum() for i in range(len(a))]
    paths_b = [b.get_data_info(i)['img'].sum() for i in range(len(b))]
    assert paths_a == paths_b
    assert np.array_equal(a.real_indices, np.arange(len(a)))
    assert a.subset_method == method
    assert f'IF=5, subset={method}, seed=0' in logged[0].splitlines()[0]


def _within_class_ranks(labels):
    """rank[i] = how many earlier samples share the label of sample i."""
    seen, ranks = {}, []
    for y in labels:
        ranks.append(seen.get(y, 0))
        seen[y] = ranks[-1] + 1
    return ranks


@pytest.mark.parametrize('imbalance_factor', [10, 4])
def test_same_images_from_cifar_pickles_and_image_folder(
        cifar10, tmp_path, imbalance_factor):
    """The default (LDAM-DRW) subset selects the same images whether CIFAR
    comes as pickles or as class folders of NNNN files (rank in class)."""
    folder = cifar_as_image_folder(cifar10, str(tmp_path / 'folder'))
    pk = build(data_root=cifar10, source='cifar10',
               imbalance_factor=imbalance_factor, num_classes=10)
    fd = build(data_root=folder, source='image_folder',
               imbalance_factor=imbalance_factor, num_classes=10)
    assert pk.subset_method == fd.subset_method == 'ldam'
    assert pk.real_class_counts == fd.real_class_counts == \
        long_tail_counts(40, 10, imbalance_factor)
    # Which pickle image each selected sample is: by its (unique) pixels.
    _, original = read_cifar(cifar10, 'cifar10', 'train')
    ranks = _within_class_ranks([s['gt_label'] for s in original])
    where = {s['img'].tobytes(): (s['gt_label'], r)
             for s, r in zip(original, ranks)}
    assert len(where) == len(original)
    from_pickles = {c: {} for c in range(10)}
    for i in range(len(pk)):
        info = pk.get_data_info(i)
        c, r = where[info['img'].tobytes()]
        assert c == info['gt_label']
        from_pickles[c][r] = info['img']
    from_folder = {c: {} for c in range(10)}
    for i in range(len(fd)):
        info = fd.get_data_info(i)
        r = int(osp.splitext(osp.basename(info['img_path']))[0])
        from_folder[info['gt_label']][r] = info['img_path']
    for c in range(10):
        assert set(from_pickles[c]) == set(from_folder[c]), c
        for r, path in from_folder[c].items():
            with Image.open(path) as img:
                np.testing.assert_array_equal(np.asarray(img),
                                              from_pickles[c][r])
    # The earlier method picks other images (so the check above has teeth).
    old = build(data_root=folder, source='image_folder',
                imbalance_factor=imbalance_factor, num_classes=10,
                subset_method='seeded_choice')
    assert old.real_class_counts == fd.real_class_counts
    assert [old.get_data_info(i)['img_path'] for i in range(len(old))] != \
        [fd.get_data_info(i)['img_path'] for i in range(len(fd))]


def test_the_long_tailed_dataset_behind_its_wrappers(cifar10):
    """Built: ``.dataset`` followed to the first dataset with the attribute
    (None past the end); config: the dotted key of the
    LongTailSyntheticDataset under each loader, wrappers included."""
    from mmengine.config import Config

    from sau_mm.datasets import MixPartnerDataset
    from sau_mm.datasets.wrappers import inner_dataset, long_tail_dataset_cfg
    ds = build(data_root=cifar10, source='cifar10', imbalance_factor=10,
               num_classes=10)
    wrapped = MixPartnerDataset(ds, partner_pipeline=[])
    assert inner_dataset(wrapped) is ds and inner_dataset(ds) is ds
    assert inner_dataset(wrapped, has='partner_pipeline') is wrapped
    assert inner_dataset(object()) is None and inner_dataset(None) is None
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    sau = Config.fromfile(osp.join(root, 'configs/sau/resnet32_cifar10lt.py'))
    key, found = long_tail_dataset_cfg(sau)
    assert key == 'train_dataloader.dataset.dataset'
    assert found is sau.train_dataloader.dataset.dataset
    assert long_tail_dataset_cfg(sau, 'val_dataloader')[0] == \
        'val_dataloader.dataset'
    sau.train_dataloader.dataset.dataset.type = 'OtherDataset'
    assert long_tail_dataset_cfg(sau) == ('train_dataloader.dataset', None)
    assert long_tail_dataset_cfg(Config(dict()), 'test_dataloader') == (
        'test_dataloader.dataset', None)
