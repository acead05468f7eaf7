"""The label-correction probe (sau_mm/analysis/label_correction_probe.py):
its banks on fabricated embeddings against a plain nearest-neighbour
reference, the filled batches' composition, the prototypes, and the tool on
a SAU model whose synthetic images are copies of real ones, so that the
all-reals bank must flag every off-class copy and no clean copy."""
import json
import os
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from sau_mm.analysis.label_correction_probe import (BANKS, VIEWS,
                                                    ProbeError, _batches,
                                                    class_prototypes,
                                                    embed_train_views,
                                                    load_probe_set, probe,
                                                    simulate_epoch)
from sau_mm.datasets.manifest import ManifestRecord, write_manifest

from tests.support.training import SAU_DATASET, TINY_SAU, small_cfg

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def nearest_label_flags(z, labels, syn, bank_z, bank_labels):
    """Reference: a synthetic sample is flagged when, in any view, the label
    of its most cosine-similar bank entry differs from its own."""
    out = []
    for i in np.flatnonzero(syn):
        flagged = False
        for v in range(z.shape[1]):
            q = z[i, v] / np.linalg.norm(z[i, v])
            b = bank_z[v] / np.linalg.norm(bank_z[v], axis=1, keepdims=True)
            flagged |= bank_labels[np.argmax(b @ q)] != labels[i]
        out.append(flagged)
    return np.array(out)


@pytest.fixture
def fabricated():
    rng = np.random.default_rng(3)
    n, views, dim, classes = 40, 2, 6, 3
    z = rng.normal(size=(n, views, dim)).astype(np.float32)
    labels = rng.integers(0, classes, n)
    labels[:classes] = np.arange(classes)      # every class has a real
    syn = rng.random(n) < 0.5
    syn[:classes] = False
    protos = rng.normal(size=(views, classes, dim)).astype(np.float32)
    return z, labels, syn, protos


def run_bank(fabricated, bank, batch_size, seed=0):
    z, labels, syn, protos = fabricated
    draws, flags = simulate_epoch(
        torch.from_numpy(z), torch.from_numpy(labels), torch.from_numpy(syn),
        torch.from_numpy(protos), bank, batch_size,
        np.random.default_rng(seed))
    assert (flags <= draws).all()
    return flags > 0


def test_prototype_and_all_real_banks_match_the_reference(fabricated):
    z, labels, syn, protos = fabricated
    classes = np.arange(protos.shape[1])
    only_protos = nearest_label_flags(z, labels, syn, protos, classes)
    assert 0 < only_protos.sum() < syn.sum()
    assert (run_bank(fabricated, 'prototypes', 7) == only_protos).all()
    reals = np.concatenate([z[~syn].transpose(1, 0, 2), protos], axis=1)
    all_reals = nearest_label_flags(z, labels, syn, reals, np.concatenate(
        [labels[~syn], classes]))
    assert (run_bank(fabricated, 'all reals + prototypes', 7)
            == all_reals).all()
    # one batch holding the whole set: its reals are all the reals
    assert (run_bank(fabricated, 'batch reals + prototypes', 64)
            == all_reals).all()
    assert not (all_reals == only_protos).all()


def test_batch_banks_use_each_batch_reals_only(fabricated):
    z, labels, syn, protos = fabricated
    expected = np.zeros(len(labels), dtype=bool)
    for batch in _batches(labels, syn, 'run', 8, np.random.default_rng(5)):
        reals = batch[~syn[batch]]
        flags = nearest_label_flags(z[batch], labels[batch], syn[batch],
                                    z[reals].transpose(1, 0, 2),
                                    labels[reals])
        expected[batch[syn[batch]]] = flags
    got = run_bank(fabricated, 'batch reals', 8, seed=5)
    assert (got == expected[syn]).all()
    assert (got != run_bank(fabricated, 'batch reals', 64)).any()


def test_filled_batches_hold_every_real_once_and_fill_each_class():
    # real 5 / 3 / 1, synthetic 0 / 1 / 2 -> 5 slots per class
    labels = np.array([0] * 5 + [1] * 3 + [2] + [1] + [2, 2])
    syn = np.array([False] * 9 + [True] * 3)
    batches = _batches(labels, syn, 'filled', 4, np.random.default_rng(0))
    slots = np.concatenate(batches)
    assert [len(b) for b in batches] == [4, 4, 4, 3]
    assert sorted(slots[slots < 9]) == list(range(9))
    assert sorted(slots[slots >= 9]) == [9, 9, 10, 10, 11, 11]
    assert (slots >= 0).all()


def test_filled_batches_draw_an_image_once_per_slot(fabricated):
    z, labels, syn, protos = fabricated
    draws, flags = simulate_epoch(
        torch.from_numpy(z), torch.from_numpy(labels), torch.from_numpy(syn),
        torch.from_numpy(protos), 'filled batch reals + prototypes', 8,
        np.random.default_rng(0))
    counts = np.bincount(labels[~syn])
    for c in range(3):
        own = draws[labels[syn] == c]
        # max(counts) - counts[c] slots cycle over the class's images
        assert own.sum() == max(counts) - counts[c]
        assert own.max() - own.min() <= 1
    once, _ = simulate_epoch(
        torch.from_numpy(z), torch.from_numpy(labels), torch.from_numpy(syn),
        torch.from_numpy(protos), 'batch reals + prototypes', 8,
        np.random.default_rng(0))
    assert (once == 1).all()


def test_prototypes_are_the_class_means_of_the_reals(fabricated):
    z, labels, syn, _ = fabricated
    got = class_prototypes(torch.from_numpy(z), torch.from_numpy(labels),
                           torch.from_numpy(syn), normalize=False)
    for c in range(3):
        mean = z[(labels == c) & ~syn].mean(0)      # (V, D)
        np.testing.assert_allclose(got[:, c].numpy(), mean, rtol=1e-5,
                                   atol=1e-6)
    unit = class_prototypes(torch.from_numpy(z), torch.from_numpy(labels),
                            torch.from_numpy(syn), normalize=True)
    np.testing.assert_allclose(unit.norm(dim=-1).numpy(), 1, rtol=1e-5)


# --------------------------------------------- a model and copied images
COUNTS = [12, 10, 8, 7, 6, 5, 4, 4, 3, 3]  # IF 4 of 12 per class


def copies_manifest(real_dataset, out_dir):
    """Fill every class to 12 with copies of real training images: even
    records copy a real of their own class (clean), odd ones a real of the
    next class (planted off_class, labelled as this class)."""
    reals = {c: [] for c in range(10)}
    for i in range(len(real_dataset)):
        info = real_dataset.get_data_info(i)
        reals[int(info['gt_label'])].append(info['img'])
    records = []
    for c, n in enumerate(COUNTS):
        for j in range(12 - n):
            source = c if j % 2 == 0 else (c + 1) % 10
            img = reals[source][j % len(reals[source])]
            rel = f'images/{c}/{j:04d}.png'
            os.makedirs(osp.join(out_dir, 'images', str(c)), exist_ok=True)
            Image.fromarray(img).save(osp.join(out_dir, rel))
            extra = dict(planted=None if source == c else 'off_class')
            if source != c:
                extra['true_label'] = source
            records.append(ManifestRecord(path=rel, label=c, source='copy',
                                          extra=extra))
    path = osp.join(out_dir, 'manifest.jsonl')
    write_manifest(path, records)
    return path


def calibrate_batch_norm(model, real_dataset):
    """BatchNorm running statistics = those of the real images (at init
    they are 0 / 1, and every image maps to nearly the same z)."""
    images = [torch.from_numpy(real_dataset.get_data_info(i)['img'])
              .permute(2, 0, 1) for i in range(len(real_dataset))]
    inputs = model.data_preprocessor(dict(inputs=images), False)['inputs']
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None      # a cumulative average: one pass is exact
    model.train()
    with torch.no_grad():
        model.project(inputs)
    model.eval()


@pytest.fixture
def copied(cifar10_pickles, tmp_path):
    """(config file, checkpoint, manifest): the tiny SAU device config on
    generated CIFAR-10 at IF 4, a freshly initialised model, copies."""
    from mmpretrain.apis import init_model

    from sau_mm.generation.complement import real_training_set
    config = osp.join(ROOT, 'configs/sau/resnet32_cifar10lt_device.py')
    cfg = small_cfg(config, cifar10_pickles(12, 2), str(tmp_path / 'work'),
                    dataset_key=SAU_DATASET,
                    **{f'{SAU_DATASET}.target_count': 12, **TINY_SAU,
                       'decoded_cache_dir': str(tmp_path / 'cache')})
    real, _, _ = real_training_set(cfg)
    assert real.class_counts == COUNTS
    manifest = copies_manifest(real, str(tmp_path / 'copies'))
    cfg_file = str(tmp_path / 'sau_tiny.py')
    cfg.dump(cfg_file)
    torch.manual_seed(0)
    model = init_model(cfg_file)
    calibrate_batch_norm(model, real)
    checkpoint = str(tmp_path / 'init.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    return cfg_file, checkpoint, manifest


def test_tool_flags_every_off_class_copy_and_no_clean_copy(copied, tmp_path,
                                                           monkeypatch):
    cfg_file, checkpoint, manifest = copied
    out = str(tmp_path / 'probe')
    monkeypatch.setattr(sys, 'argv', [
        'label_correction_probe.py', cfg_file, checkpoint, manifest,
        '--repeats', '2', '--out', out])
    runpy.run_path(osp.join(ROOT, 'tools/analysis/label_correction_probe.py'),
                   run_name='__main__')
    with open(osp.join(out, 'label_correction_probe.json')) as f:
        report = json.load(f)
    assert report['records'] == 58 and report['views'] == 'test'
    assert list(report['banks']) == list(BANKS)
    every_real = report['banks']['all reals + prototypes']
    assert every_real['per_kind']['off_class']['recall'] == 1.0
    assert every_real['false_flag_rate'] == 0.0
    assert every_real['precision'] == 1.0
    with open(osp.join(out, 'label_correction_probe.md')) as f:
        assert '| all reals + prototypes | 27 | 0.0 | 100.0 | 100.0 ' \
            '| 100.0 |' in f.read()


def test_train_views_are_drawn_from_the_seed(copied):
    cfg_file, checkpoint, manifest = copied
    probe_set = load_probe_set(cfg_file, checkpoint, manifest)
    banks = ['batch reals + prototypes']
    first = probe(probe_set, 'train', 1, seed=0, banks=banks)
    assert first == probe(probe_set, 'train', 1, seed=0, banks=banks)
    assert first['views'] == 'train'
    z = embed_train_views(probe_set, 0, VIEWS['v1'])
    assert torch.equal(z[:, 0], z[:, 1])
    assert not torch.equal(z, embed_train_views(probe_set, 1, VIEWS['v1']))


def test_train_views_need_the_device_config(copied, tmp_path):
    cfg_file, checkpoint, manifest = copied
    cfg = Config.fromfile(cfg_file)
    cfg.data_preprocessor = dict(
        type='MultiViewClsDataPreprocessor',
        mean=cfg.data_preprocessor.mean, std=cfg.data_preprocessor.std)
    cpu_file = str(tmp_path / 'cpu.py')
    cfg.dump(cpu_file)
    probe_set = load_probe_set(cpu_file, checkpoint, manifest)
    with pytest.raises(ProbeError, match='_device config'):
        probe(probe_set, 'train', 1)


def test_a_manifest_the_set_does_not_draw_whole_is_refused(copied, tmp_path):
    cfg_file, checkpoint, manifest = copied
    with pytest.raises(ProbeError, match='target_count'):
        load_probe_set(cfg_file, checkpoint, manifest,
                       {f'{SAU_DATASET}.target_count': 11})
