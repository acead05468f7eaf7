"""DiffuLT sampling: planned counts per class, seeds, atomic resumable
writes, the manifest."""
import json
import os
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from sau_mm.datasets.manifest import read_manifest, resolve_path
from sau_mm.generation.complement import complement_counts, image_seed
from sau_mm.generation.diffult.sampling import sample_complement

REAL = [6, 4, 2, 1]


@pytest.fixture(scope='module')
def model(tiny_ddpm):
    assert tiny_ddpm.num_classes == len(REAL)
    return tiny_ddpm


def test_plan_fills_each_class_to_the_target():
    assert complement_counts(REAL)[2] == [0, 2, 4, 5]
    assert complement_counts(REAL, target=8)[2] == [2, 4, 6, 7]
    assert complement_counts(REAL, oversample=1.5)[2] == [0, 3, 6, 8]


def sample(model, out_dir, **kwargs):
    kwargs = dict(dict(guidance=0.8, sampler='ddim', steps=2, batch_size=4,
                       seed=3), **kwargs)
    return sample_complement(model, REAL, str(out_dir), **kwargs)


def test_sampling_writes_the_planned_images_and_manifest(model, tmp_path):
    manifest = sample(model, tmp_path)
    records = read_manifest(manifest)
    assert Counter(r.label for r in records) == {1: 2, 2: 4, 3: 5}
    assert {r.source for r in records} == {'diffult'}
    assert [r.seed for r in records if r.label == 2] == [
        image_seed(3, 2, i) for i in range(4)]
    for r in records:
        with Image.open(resolve_path(manifest, r)) as img:
            assert img.size == (8, 8) and img.mode == 'RGB'
    assert not [f for _, _, files in os.walk(tmp_path) for f in files
                if '.tmp' in f]
    with open(tmp_path / 'sampling.json') as f:
        assert json.load(f)['planned'] == [0, 2, 4, 5]


def test_rerun_resumes_and_regenerates_only_missing_or_broken(model,
                                                              tmp_path):
    manifest = sample(model, tmp_path)
    paths = [resolve_path(manifest, r) for r in read_manifest(manifest)]
    before = {p: np.asarray(Image.open(p)) for p in paths}
    mtimes = {p: os.stat(p).st_mtime_ns for p in paths}
    os.remove(paths[0])
    with open(paths[3], 'wb') as f:
        f.write(b'truncated')
    sample(model, tmp_path, batch_size=1)
    for i, p in enumerate(paths):
        if i in (0, 3):  # regenerated from the same per-image seed
            diff = np.abs(np.asarray(Image.open(p)).astype(int) - before[p])
            assert diff.max() <= 1
        else:
            assert os.stat(p).st_mtime_ns == mtimes[p]


def test_rerun_with_other_settings_is_refused(model, tmp_path):
    sample(model, tmp_path)
    with pytest.raises(ValueError, match='other settings'):
        sample(model, tmp_path, guidance=2.0)


def test_larger_target_extends_the_same_images(model, tmp_path):
    manifest = sample(model, tmp_path)
    first = {r.path: r.seed for r in read_manifest(manifest)}
    more = {r.path: r.seed for r in read_manifest(sample(model, tmp_path,
                                                         target=7))}
    assert first.items() <= more.items()
    assert Counter(int(p.split('/')[1]) for p in more) == {0: 1, 1: 3, 2: 5,
                                                           3: 6}


def test_bf16_autocast_sampling_is_recorded_and_close_to_fp32(model,
                                                             tmp_path):
    fp32 = read_manifest(sample(model, tmp_path / 'fp32'))
    bf16 = read_manifest(sample(model, tmp_path / 'bf16', amp=True))
    assert [(r.path, r.seed) for r in bf16] == [(r.path, r.seed)
                                                 for r in fp32]
    with open(tmp_path / 'bf16' / 'sampling.json') as f:
        assert json.load(f)['amp'] == 'bf16'
    diffs = [np.abs(np.asarray(Image.open(tmp_path / 'bf16' / r.path),
                               dtype=int) -
                    np.asarray(Image.open(tmp_path / 'fp32' / r.path)))
             for r in fp32]
    assert max(d.max() for d in diffs) > 0  # bf16 did run
    assert np.mean([d.mean() for d in diffs]) < 8  # same images, roughly
    with pytest.raises(ValueError, match='other settings'):
        sample(model, tmp_path / 'bf16')  # fp32 resume of a bf16 run
