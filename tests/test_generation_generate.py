"""Synthetic-data stage 3: text-to-image generation with a tiny random
diffusers pipeline saved to a local folder; resume, determinism, shards,
settings guard, throughput benchmark."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from sau_mm.datasets.manifest import read_manifest
from sau_mm.generation.text2image import benchmark, cli
from sau_mm.generation.text2image.generate import (GenerationSettingsError,
                                                   generate_images,
                                                   load_pipeline)
from sau_mm.generation.text2image.plan import compute_plan, write_plan
from sau_mm.generation.text2image.prompts import make_prompts

from tests.support.generation import one_torch_thread

CLASSES = ['cat', 'dog', 'ship']
STEPS, GUIDANCE = 2, 3.0


@pytest.fixture(scope='module')
def pipe_dir(tiny_sd_pipeline):
    return tiny_sd_pipeline


@pytest.fixture(scope='module')
def pipe(pipe_dir):
    return load_pipeline(pipe_dir)


@pytest.fixture
def out_dir(tmp_path):
    """3 classes needing 0 / 3 / 5 images of 24x24 (the pipeline makes
    32x32: resized)."""
    plan = compute_plan(CLASSES, [6, 3, 1], resolution=24)
    write_plan(str(tmp_path), plan)
    make_prompts(str(tmp_path), plan)
    return str(tmp_path)


def run(out_dir, pipe, **kw):
    with one_torch_thread():
        return generate_images(out_dir, pipe, steps=STEPS, guidance=GUIDANCE,
                               **dict(dict(batch_size=3), **kw))


def pixels(path):
    with Image.open(path) as img:
        return np.asarray(img.convert('RGB')).copy()


def test_generate_writes_exactly_the_plan(out_dir, pipe):
    stats = run(out_dir, pipe)
    assert stats['generated'] == 8 and stats['manifest_written']
    manifest = osp.join(out_dir, 'manifest.jsonl')
    records = read_manifest(manifest)
    assert [(r.label, r.path) for r in records] == \
        [(1, f'images/1/{i:06d}.png') for i in range(3)] + \
        [(2, f'images/2/{i:06d}.png') for i in range(5)]
    assert len({r.seed for r in records}) == 8
    assert records[0].prompt == 'A photo of a dog.'
    assert records[0].source == 'text2image:tiny-sd'
    for r in records:
        with Image.open(osp.join(out_dir, r.path)) as img:
            assert img.size == (24, 24)
            assert json.loads(img.info['sau_mm']) == dict(prompt=r.prompt,
                                                          seed=r.seed)
    assert read_manifest(osp.join(out_dir, 'generated.jsonl')) == records
    settings = json.load(open(osp.join(out_dir, 'generation.json')))
    assert settings['steps'] == STEPS and settings['guidance'] == GUIDANCE


def test_rerun_redoes_only_bad_images_identically(out_dir, pipe):
    run(out_dir, pipe)
    path = osp.join(out_dir, 'images', '2', '{:06d}.png').format
    before = {i: pixels(path(i)) for i in range(5)}
    os.remove(path(0))                                    # lost
    data = open(path(1), 'rb').read()
    open(path(1), 'wb').write(data[:len(data) // 2])      # truncated
    Image.fromarray(before[2]).save(path(2))              # no prompt / seed
    stale = osp.join(out_dir, 'images', '2', '000003.png.tmp.4194305')
    open(stale, 'wb').write(b'half')                      # killed writer
    stats = run(out_dir, pipe, batch_size=2)
    assert stats['already_done'] == 5 and stats['generated'] == 3
    assert not osp.exists(stale)
    for i in range(5):  # per-image seeds: batching does not change images
        np.testing.assert_array_equal(pixels(path(i)), before[i])
    assert run(out_dir, pipe)['generated'] == 0


def test_changed_prompts_regenerate_and_changed_settings_refused(out_dir,
                                                                 pipe):
    run(out_dir, pipe)
    with pytest.raises(GenerationSettingsError, match='steps: 2 before, 3'):
        with one_torch_thread():
            generate_images(out_dir, pipe, steps=STEPS + 1,
                            guidance=GUIDANCE)
    make_prompts(out_dir, json.load(open(osp.join(out_dir, 'plan.json'))),
                 templates=['A photo of a {class}.', 'A {class} at sea.'])
    stats = run(out_dir, pipe)
    assert stats['generated'] == 3  # odd indices got the second template
    prompts = [r.prompt for r in read_manifest(
        osp.join(out_dir, 'manifest.jsonl')) if r.label == 2]
    assert prompts[1] == 'A ship at sea.'


def test_shards_complete_the_set_together(out_dir, pipe):
    first = run(out_dir, pipe, shard=(0, 2))
    assert first['generated'] == 4 and first['missing'] == 4
    assert not first['manifest_written']
    assert not osp.exists(osp.join(out_dir, 'manifest.jsonl'))
    second = run(out_dir, pipe, shard=(1, 2))
    assert second['generated'] == 4 and second['manifest_written']
    assert len(read_manifest(osp.join(out_dir, 'manifest.jsonl'))) == 8


def test_jpeg_output_resumes(out_dir, pipe):
    assert run(out_dir, pipe, image_format='jpg')['generated'] == 8
    records = read_manifest(osp.join(out_dir, 'manifest.jsonl'))
    assert records[0].path.endswith('.jpg')
    assert run(out_dir, pipe, image_format='jpg')['generated'] == 0


def test_cli_generate_and_benchmark(out_dir, pipe_dir, tmp_path, capsys):
    with one_torch_thread():
        assert cli.main(['generate', '--out-dir', out_dir, '--pipeline-dir',
                         pipe_dir, '--steps', '2', '--batch-size', '4',
                         '--pipeline-class', 'StableDiffusionPipeline',
                         '--source', 'tiny']) == 0
        assert read_manifest(osp.join(out_dir, 'manifest.jsonl'))[0].source \
            == 'tiny'
        assert cli.main(['generate', '--out-dir', out_dir, '--pipeline-dir',
                         str(tmp_path / 'nowhere')]) == 1
        result = benchmark.main(
            [pipe_dir, '--num-images', '8', '--batch-size', '4', '--steps',
             '2', '--device', 'cpu'])
    assert result['images'] == 8 and result['images_per_s'] > 0
    assert result['peak_memory_mib'] > 0
    assert '"images_per_s"' in capsys.readouterr().out
