"""Synthetic-data stages 4-5: CLIP filter with a tiny random open_clip model
saved as a local checkpoint, and the contact sheets."""
import json
import os
import os.path as osp
import shutil

import numpy as np
import open_clip
import pytest
import torch
from PIL import Image

from sau_mm.datasets import LongTailSyntheticDataset
from sau_mm.datasets.manifest import (ManifestRecord, read_manifest,
                                      write_manifest)
from sau_mm.generation.text2image import cli
from sau_mm.generation.text2image.clip_filter import (ClipScorer,
                                                      filter_images, select)
from sau_mm.generation.text2image.plan import (plan_from_config, read_plan,
                                               write_plan)

from tests.support import ROOT
from tests.support.data import class_images, make_image_folder

CONFIG = osp.join(
    ROOT, 'configs/baselines/resnet32_cifar10jpeg_lt/ce_real_synthetic.py')


@pytest.fixture(scope='module')
def clip(tiny_clip):
    return tiny_clip


@pytest.fixture(scope='module')
def generated(tmp_path_factory):
    """A planned and 'generated' folder: 4 classes of the image-folder data
    at IF 4, generated.jsonl of class-coloured images (no diffusion needed
    to test the filter)."""
    root = tmp_path_factory.mktemp('gen')
    data = make_image_folder(str(root / 'data'), [12] * 4)
    out = str(root / 'out')
    write_plan(out, plan_from_config(CONFIG, {
        'train_dataloader.dataset.data_root': data,
        'train_dataloader.dataset.num_classes': 4,
        'train_dataloader.dataset.imbalance_factor': 4}))
    plan = read_plan(out)
    rng = np.random.default_rng(0)
    records = []
    for c, n in enumerate(plan['needed_counts']):
        os.makedirs(osp.join(out, 'images', str(c)))
        for i, img in enumerate(class_images(c, n, rng)):
            rel = f'images/{c}/{i:06d}.png'
            Image.fromarray(img).save(osp.join(out, rel))
            records.append(ManifestRecord(rel, c, 'test', prompt=f'p{c}',
                                          seed=i))
    write_manifest(osp.join(out, 'generated.jsonl'), records)
    write_manifest(osp.join(out, 'manifest.jsonl'), records)
    return out


@pytest.fixture
def out_dir(generated, tmp_path):
    shutil.copytree(generated, tmp_path / 'out')
    return str(tmp_path / 'out')


@pytest.fixture
def scorer(clip):
    config, checkpoint, name = clip
    return ClipScorer(name, checkpoint, config_file=config)


def test_default_keeps_everything_with_cosine_scores(out_dir, scorer, clip):
    report = filter_images(out_dir, scorer)
    plan = read_plan(out_dir)
    assert plan['needed_counts'] == [0, 5, 8, 9]
    assert report['scored'] == report['kept'] == 22
    assert report['dropped'] == 0 and report['short_classes'] == []
    manifest = read_manifest(osp.join(out_dir, 'manifest.jsonl'))
    assert len(manifest) == 22 and all(-1 <= r.score <= 1 for r in manifest)
    for c in (1, 2, 3):  # by class, best first
        scores = [r.score for r in manifest if r.label == c]
        assert scores == sorted(scores, reverse=True)
    # the score is the cosine similarity of image and class text
    config, checkpoint, name = clip
    model, _, preprocess = open_clip.create_model_and_transforms(
        name, pretrained=checkpoint)
    rec = manifest[0]
    with torch.no_grad():
        img = model.encode_image(preprocess(Image.open(
            osp.join(out_dir, rec.path)).convert('RGB'))[None])
        txt = model.encode_text(open_clip.get_tokenizer(name)(
            ['a photo of a class 1.']))
    assert rec.score == pytest.approx(
        float(torch.cosine_similarity(img, txt)), abs=1e-5)
    saved = json.load(open(osp.join(out_dir, 'filter_report.json')))
    c3 = saved['classes'][3]
    assert (c3['scored'], c3['kept'], c3['dropped']) == (9, 9, 0)
    assert set(c3['scores']) == {'min', 'q10', 'mean', 'median', 'q90', 'max'}
    assert saved['settings']['threshold'] is None


def test_threshold_fraction_and_score_cache(out_dir, scorer):
    first = filter_images(out_dir, scorer)
    scored = read_manifest(osp.join(out_dir, 'scored.jsonl'))
    threshold = float(np.median([r.score for r in scored]))
    calls = []
    original = scorer.scores
    scorer.scores = lambda images, texts: calls.append(len(texts)) or \
        original(images, texts)
    report = filter_images(out_dir, scorer, threshold=threshold)
    assert calls == []  # every score came from the cache
    kept = read_manifest(osp.join(out_dir, 'manifest.jsonl'))
    assert all(r.score >= threshold for r in kept)
    assert report['kept'] == len(kept) == sum(
        r.score >= threshold for r in scored)
    assert report['short_classes']
    report = filter_images(out_dir, scorer, keep_fraction=0.5)
    assert [c['kept'] for c in report['classes']] == [0, 3, 4, 5]
    # a changed image file is scored again, alone
    path = osp.join(out_dir, scored[0].path)
    Image.fromarray(class_images(0, 1, np.random.default_rng(5))[0]).save(path)
    filter_images(out_dir, scorer)
    assert calls == [1]
    assert first['scored'] == 22


def test_select_rules():
    scores, labels = [0.1, 0.5, 0.3, 0.9, 0.2], [0, 0, 0, 1, 1]
    assert select(scores, labels, 2) == [True] * 5
    assert select(scores, labels, 2, threshold=0.25) == \
        [False, True, True, True, False]
    assert select(scores, labels, 2, keep_fraction=0.5) == \
        [False, True, True, True, False]
    assert select(scores, labels, 2, threshold=0.4, keep_fraction=0.5) == \
        [False, True, False, True, False]


def test_cli_filter_inspect_and_the_dataset_reads_it(out_dir, clip):
    config, checkpoint, name = clip
    assert cli.main(['filter', '--out-dir', out_dir, '--clip-model', name,
                     '--clip-checkpoint', checkpoint, '--clip-config',
                     config, '--keep-fraction', '0.7', '--text-source',
                     'prompt', '--device', 'cpu']) == 0
    report = json.load(open(osp.join(out_dir, 'filter_report.json')))
    assert report['settings']['text_source'] == 'prompt'
    assert report['kept'] == 4 + 6 + 7
    assert cli.main(['inspect', '--out-dir', out_dir, '--tile', '32']) == 0
    sheets = sorted(os.listdir(osp.join(out_dir, 'inspect')))
    assert sheets == ['0001_class_1.png', '0002_class_2.png',
                      '0003_class_3.png']
    with Image.open(osp.join(out_dir, 'inspect', sheets[-1])) as sheet:
        assert sheet.width >= 8 * 32 and sheet.height >= 3 * 32
    plan = read_plan(out_dir)
    dataset = LongTailSyntheticDataset(
        data_root=plan['dataset']['data_root'], source='image_folder',
        imbalance_factor=4, num_classes=4,
        synthetic_manifest=osp.join(out_dir, 'manifest.jsonl'),
        allow_partial_fill=True)
    assert dataset.synthetic_class_counts == [0, 4, 6, 7]
    assert dataset.real_class_counts == plan['real_counts']
