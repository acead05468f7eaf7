import math

import sau_mm  # noqa: F401  (compat fixes before mmpretrain)
import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from sau_mm.models.losses import ClassBalancedLoss, LogitAdjustedLoss

COUNTS = [100, 10, 1]


def ref_cb_weights(counts, beta):
    raw = [(1 - beta) / (1 - beta**n) for n in counts]
    return [w * len(counts) / sum(raw) for w in raw]


def ref_cb_loss(z, y, counts, beta, gamma, loss_type):
    """Plain loops: mean over samples of w_y * per-sample loss."""
    w = ref_cb_weights(counts, beta)
    total = 0.0
    for row, label in zip(z.tolist(), y.tolist()):
        if loss_type == 'softmax':
            log_norm = math.log(sum(math.exp(v) for v in row))
            sample = -(row[label] - log_norm)
        else:
            g = gamma if loss_type == 'focal' else 0.0
            sample = 0.0
            for c, v in enumerate(row):
                p = 1 / (1 + math.exp(-v))
                if c == label:
                    sample += -((1 - p)**g) * math.log(p)
                else:
                    sample += -(p**g) * math.log(1 - p)
        total += w[label] * sample
    return total / len(y)


def ref_balanced_softmax(z, y, counts, weight=None):
    """-log( n_y e^{z_y} / sum_c n_c e^{z_c} ), (weighted) mean."""
    losses = []
    for row, label in zip(z.tolist(), y.tolist()):
        denom = sum(n * math.exp(v) for n, v in zip(counts, row))
        losses.append(-math.log(counts[label] * math.exp(row[label]) / denom))
    weight = [1.0] * len(losses) if weight is None else weight.tolist()
    return sum(loss * w for loss, w in zip(losses, weight)) / len(losses)


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(6, 3, generator=g) * 2, torch.tensor([0, 1, 2, 2, 1,
                                                             0])


def test_cb_weights_match_formula():
    beta = 0.99
    loss = ClassBalancedLoss(beta=beta, class_counts=COUNTS)
    expected = ref_cb_weights(COUNTS, beta)
    assert loss.class_weight.tolist() == pytest.approx(expected, rel=1e-12)
    assert loss.class_weight.sum().item() == pytest.approx(3)
    # rarer class -> larger weight; beta = 0 -> no re-weighting
    assert expected[0] < expected[1] < expected[2]
    flat = ClassBalancedLoss(beta=0.0, class_counts=COUNTS).class_weight
    assert flat.tolist() == pytest.approx([1, 1, 1])


@pytest.mark.parametrize('loss_type', ['softmax', 'focal', 'sigmoid'])
def test_cb_loss_matches_loop_reference(batch, loss_type):
    z, y = batch
    loss = ClassBalancedLoss(beta=0.99, gamma=2.0, loss_type=loss_type,
                             class_counts=COUNTS)
    expected = ref_cb_loss(z, y, COUNTS, 0.99, 2.0, loss_type)
    assert loss(z, y).item() == pytest.approx(expected, rel=1e-5)
    # avg_factor as LinearClsHead passes it, loss_weight, reduction='none'
    assert loss(z, y, avg_factor=6).item() == pytest.approx(expected, rel=1e-5)
    per_sample = loss(z, y, reduction_override='none')
    assert per_sample.shape == (6, )
    scaled = ClassBalancedLoss(beta=0.99, gamma=2.0, loss_type=loss_type,
                               class_counts=COUNTS, loss_weight=0.5)
    assert scaled(z, y).item() == pytest.approx(expected / 2, rel=1e-5)


@pytest.mark.parametrize('loss_type', ['softmax', 'focal', 'sigmoid'])
def test_cb_soft_target_is_mix_of_losses(batch, loss_type):
    z, _ = batch
    loss = ClassBalancedLoss(beta=0.99, loss_type=loss_type,
                             class_counts=COUNTS, reduction='none')
    a, b, lam = torch.tensor([0] * 6), torch.tensor([2] * 6), 0.3
    soft = torch.zeros(6, 3)
    soft[:, 0], soft[:, 2] = lam, 1 - lam
    mixed = lam * loss(z, a) + (1 - lam) * loss(z, b)
    torch.testing.assert_close(loss(z, soft), mixed)


def test_cb_per_sample_weight(batch):
    z, y = batch
    loss = ClassBalancedLoss(loss_type='focal', class_counts=COUNTS)
    weight = torch.tensor([1., 0., 2., 1., 0., 1.])
    per_sample = loss(z, y, reduction_override='none')
    expected = (per_sample * weight).sum() / 6
    torch.testing.assert_close(loss(z, y, weight=weight, avg_factor=6),
                               expected)


def test_logit_adjusted_tau1_is_balanced_softmax(batch):
    z, y = batch
    loss = LogitAdjustedLoss(tau=1.0, class_counts=COUNTS)
    assert loss(z, y).item() == pytest.approx(
        ref_balanced_softmax(z, y, COUNTS), rel=1e-5)
    weight = torch.tensor([1., 0., 2., 1., 0., 1.])
    assert loss(z, y, weight=weight, avg_factor=6).item() == pytest.approx(
        ref_balanced_softmax(z, y, COUNTS, weight), rel=1e-5)
    # soft one-hot targets give the same loss; tau = 0 is plain CE
    one_hot = torch.nn.functional.one_hot(y, 3).float()
    torch.testing.assert_close(loss(z, one_hot), loss(z, y))
    plain = LogitAdjustedLoss(tau=0.0, class_counts=COUNTS)
    torch.testing.assert_close(plain(z, y),
                               torch.nn.functional.cross_entropy(z, y))


def test_logit_adjusted_tau_scales_log_prior(batch):
    z, y = batch
    tau = 0.5
    prior = torch.tensor(COUNTS, dtype=torch.float) / sum(COUNTS)
    expected = torch.nn.functional.cross_entropy(z + tau * prior.log(), y)
    torch.testing.assert_close(
        LogitAdjustedLoss(tau=tau, class_counts=COUNTS)(z, y), expected)


@pytest.mark.parametrize('cfg', [
    dict(type='ClassBalancedLoss'),
    dict(type='LogitAdjustedLoss'),
])
def test_error_before_counts_are_set(batch, cfg):
    z, y = batch
    loss = MODELS.build(cfg)
    with pytest.raises(RuntimeError, match='ClassCountsHook'):
        loss(z, y)
    loss.set_class_counts([5, 1, 3, 4])
    with pytest.raises(ValueError, match='counts for 4 classes'):
        loss(z, y)
    with pytest.raises(ValueError, match='at least one training sample'):
        loss.set_class_counts([5, 0, 2])


def test_bad_loss_type():
    with pytest.raises(ValueError, match='loss_type'):
        ClassBalancedLoss(loss_type='ldam')


def _head_batch():
    g = torch.Generator().manual_seed(1)
    feats = torch.randn(4, 4, generator=g)
    labels = [0, 1, 2, 2]
    samples = [DataSample().set_gt_label(c) for c in labels]
    return feats, labels, samples


def test_logit_adjusted_in_linear_cls_head():
    head = MODELS.build(
        dict(type='LinearClsHead', num_classes=3, in_channels=4,
             loss=dict(type='LogitAdjustedLoss', tau=1.0)))
    feats, labels, samples = _head_batch()
    with pytest.raises(RuntimeError, match='custom_hooks'):
        head.loss((feats, ), samples)
    # what ClassCountsHook does
    for module in head.modules():
        if hasattr(module, 'set_class_counts'):
            module.set_class_counts(COUNTS)
    logits = head.fc(feats)
    losses = head.loss((feats, ), samples)
    assert losses['loss'].item() == pytest.approx(
        ref_balanced_softmax(logits, torch.tensor(labels), COUNTS), rel=1e-5)
    losses['loss'].backward()
    assert head.fc.weight.grad is not None
    # soft targets (batch augments store gt_score)
    soft = [DataSample().set_gt_score(torch.tensor([0.5, 0.5, 0.]))
            for _ in range(4)]
    expected = -(soft[0].gt_score * torch.log_softmax(
        logits + torch.tensor(COUNTS).float().div(111).log(), -1)).sum(-1)
    assert head.loss((feats, ), soft)['loss'].item() == pytest.approx(
        expected.mean().item(), rel=1e-5)
    # predictions use the plain logits
    pred = head.predict((feats, ))
    torch.testing.assert_close(
        torch.stack([p.pred_score for p in pred]),
        torch.softmax(logits, -1).detach())


def test_class_balanced_in_linear_cls_head():
    head = MODELS.build(
        dict(type='LinearClsHead', num_classes=3, in_channels=4,
             loss=dict(type='ClassBalancedLoss', beta=0.999,
                       loss_type='focal', class_counts=COUNTS)))
    feats, labels, samples = _head_batch()
    expected = ref_cb_loss(head.fc(feats), torch.tensor(labels), COUNTS,
                           0.999, 1.0, 'focal')
    assert head.loss((feats, ), samples)['loss'].item() == pytest.approx(
        expected, rel=1e-5)
