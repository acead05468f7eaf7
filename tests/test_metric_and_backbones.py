import json

import numpy as np
import pytest
import torch
from mmpretrain.registry import METRICS, MODELS
from mmpretrain.structures import DataSample


def samples(scores, labels):
    return [DataSample().set_pred_score(torch.tensor(s, dtype=torch.float))
            .set_gt_label(int(y)).to_dict() for s, y in zip(scores, labels)]


def test_long_tail_accuracy_groups_top5_best_and_per_class(tmp_path):
    # 6 classes: training counts -> groups many, many, medium, medium, few, few
    metric = METRICS.build(dict(type='LongTailAccuracy', topk=(1, 2),
                                train_class_counts=[500, 101, 100, 20, 19, 1],
                                out_dir=str(tmp_path)))
    eye = np.eye(6)
    labels = [0, 0, 1, 2, 3, 4, 5, 5]
    preds = [0, 1, 1, 2, 0, 4, 0, 3]  # correct: T F T T F T F F
    scores = [eye[p] + 0.5 * eye[y] * (p != y) for p, y in zip(preds, labels)]
    metric.process(None, samples(scores, labels))
    result = metric.evaluate(len(labels))
    assert result['lt/top1'] == pytest.approx(100 * 4 / 8)
    assert result['lt/top2'] == pytest.approx(100.0)
    assert result['lt/many'] == pytest.approx(100 * 2 / 3)
    assert result['lt/medium'] == pytest.approx(100 * 1 / 2)
    assert result['lt/few'] == pytest.approx(100 * 1 / 3)
    assert result['lt/top1_best'] == result['lt/top1']
    per_class = json.load(open(tmp_path / 'per_class_accuracy_1.json'))
    assert per_class['per_class_top1'] == pytest.approx(
        [50, 100, 100, 0, 100, 0])
    # A worse second evaluation keeps the best figure.
    metric.process(None, samples([eye[1]] * 2, [0, 0]))
    second = metric.evaluate(2)
    assert second['lt/top1'] == 0 and second['lt/top1_best'] == 50


@pytest.mark.parametrize('base, params, feat', [(16, 0.4635, 64),
                                                 (64, 7.3836, 256)])
def test_resnet32_widths(base, params, feat):
    model = MODELS.build(dict(type='ResNet32', base_channels=base))
    n = sum(p.numel() for p in model.parameters()) / 1e6
    assert n == pytest.approx(params, abs=1e-3)
    out = model(torch.randn(2, 3, 32, 32))
    assert out[0].shape == (2, feat, 8, 8)
    # Option-A shortcut: no parameters, subsample + zero channel padding.
    block = model.layer2[0]
    x = torch.randn(1, base, 8, 8)
    short = block.shortcut(x)
    assert short.shape == (1, 2 * base, 4, 4)
    assert torch.equal(short[:, base // 2:base // 2 + base], x[:, :, ::2, ::2])
    assert short[:, :base // 2].abs().sum() == 0


@pytest.mark.parametrize('config', [
    'baselines/resnet32_cifar10jpeg_lt/ce.py',
    'baselines/resnet32w_cifar100lt/balanced_softmax.py'])
def test_resnet32_classifier_weights_are_kaiming_normal(config):
    """The CIFAR baselines' linear classifier: weights N(0, 2 / fan_in) as in
    LDAM-DRW's code (MMPretrain's own default, std 0.01, fails), bias 0."""
    import math
    import os.path as osp

    from mmengine.config import Config
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    cfg = Config.fromfile(osp.join(root, 'configs', config))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    fc = model.head.fc
    kaiming = math.sqrt(2 / fc.weight.size(1))
    assert fc.weight.std().item() == pytest.approx(kaiming, rel=0.1)
    assert fc.weight.mean().abs().item() < kaiming / 5
    assert torch.count_nonzero(fc.bias) == 0
