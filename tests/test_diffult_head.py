"""SyntheticWeightedClsHead: sum_i w_i l_i / sum_i w_i with w_i the
synthetic weight for synthetic samples, 1 for real ones."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample


def head(weight, **loss):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='SyntheticWeightedClsHead', num_classes=5, in_channels=8,
        synthetic_weight=weight,
        loss=dict(type='CrossEntropyLoss', **loss)))


def samples(labels, synthetic, scores=None):
    out = []
    for i, (y, s) in enumerate(zip(labels, synthetic)):
        d = DataSample().set_gt_label(y)
        if scores is not None:
            d.set_gt_score(scores[i])
        if s is not None:
            d.set_field(s, 'is_synthetic')
        out.append(d)
    return out


LABELS = [0, 3, 1, 4, 2, 3]
SYNTHETIC = [False, True, False, True, False, True]
FEATS = (torch.randn(6, 8, generator=torch.Generator().manual_seed(1)), )


def test_loss_is_the_hand_computed_weighted_ce():
    h = head(0.3)
    logits = h(FEATS)
    per_sample = F.cross_entropy(logits, torch.tensor(LABELS),
                                 reduction='none')
    w = torch.tensor([1, 0.3, 1, 0.3, 1, 0.3])
    expected = (w * per_sample).sum() / w.sum()
    loss = h.loss(FEATS, samples(LABELS, SYNTHETIC))['loss']
    torch.testing.assert_close(loss, expected)


def test_soft_targets_of_batch_augments():
    h = head(0.5, use_soft=True)
    scores = torch.rand(6, 5, generator=torch.Generator().manual_seed(2))
    scores = scores / scores.sum(1, keepdim=True)
    logits = h(FEATS)
    per_sample = -(scores * logits.log_softmax(-1)).sum(-1)
    w = torch.tensor([1, 0.5, 1, 0.5, 1, 0.5])
    loss = h.loss(FEATS, samples(LABELS, SYNTHETIC, scores))['loss']
    torch.testing.assert_close(loss, (w * per_sample).sum() / w.sum())


def test_weight_one_is_plain_ce_and_zero_ignores_synthetic():
    plain = MODELS.build(dict(type='LinearClsHead', num_classes=5,
                              in_channels=8,
                              loss=dict(type='CrossEntropyLoss')))
    h = head(1.0)
    plain.load_state_dict(h.state_dict())
    data = samples(LABELS, SYNTHETIC)
    torch.testing.assert_close(h.loss(FEATS, data)['loss'],
                               plain.loss(FEATS, data)['loss'])
    zero = head(0.0)
    real = [0, 2, 4]
    torch.testing.assert_close(
        zero.loss(FEATS, data)['loss'],
        F.cross_entropy(zero(FEATS)[real], torch.tensor(LABELS)[real]))
    all_synthetic = zero.loss(FEATS, samples(LABELS, [True] * 6))['loss']
    assert all_synthetic.item() == 0.0


def test_negative_weight_is_refused():
    with pytest.raises(ValueError, match='synthetic_weight'):
        head(-0.1)


def test_missing_flag_is_an_error_not_real():
    data = samples(LABELS, [False, True, None, True, False, True])
    with pytest.raises(KeyError, match='LongTailSyntheticDataset'):
        head(0.5).loss(FEATS, data)
