"""DualBranchClassifier's defaults (the authors' code,
docs/method.md#defaults-that-follow-the-authors-code) and its
contracts, on the model built from the SAU configs."""
import glob
import math
import os.path as osp

import sau_mm  # noqa: F401  (compat fixes before mmpretrain)
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from sau_mm.datasets.transforms import SAUView
from sau_mm.models.utils import ClassPrototypes

from tests.support.training import TINY_SAU

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SAU = osp.join(ROOT, 'configs/sau/resnet32_cifar10lt.py')
C = 10


def build_sau(tiny=False, **model_options):
    """The SAU config's model (widened ResNet-32), or with ``tiny`` its
    tiny-width version (tests of logic that does not depend on width)."""
    cfg = Config.fromfile(SAU)
    if tiny:
        cfg.merge_from_dict(TINY_SAU)
    model_cfg = cfg.model.copy()
    model_cfg.update(model_options)
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    return MODELS.build(model_cfg)


def samples(labels, synthetic, partner_labels=None, partner_synthetic=None):
    out = []
    for i, (y, syn) in enumerate(zip(labels, synthetic)):
        s = DataSample().set_gt_label(int(y))
        s.set_field(i, 'sample_idx', field_type='metainfo')
        if syn is not None:
            s.set_field(bool(syn), 'is_synthetic')
        if partner_labels is not None:
            s.set_field(torch.tensor([int(partner_labels[i])]),
                        'partner_label')
            s.set_field(bool(partner_synthetic[i]), 'partner_is_synthetic')
        out.append(s)
    return out


def views(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 3, 32, 32, generator=g)
            for _ in range(SAUView.PARTNER + 1)]


# ------------------------------------------------------------- prototypes
def spread_embeddings(seed=0):
    """Unit vectors whose class means have norms clearly below 1."""
    g = torch.Generator().manual_seed(seed)
    z = F.normalize(torch.randn(2, 60, 8, generator=g), dim=-1)
    labels = torch.arange(60) % 3
    return z, labels


def test_prototypes_are_the_plain_mean_by_default():
    z, labels = spread_embeddings()
    plain = torch.stack([torch.stack([z[v, labels == c].mean(0)
                                      for c in range(3)]) for v in range(2)])
    assert plain.norm(dim=-1).max() < 0.6  # far from unit norm
    protos = ClassPrototypes(2, 3, 8)
    protos.compute([(z[:, :25], labels[:25]), (z[:, 25:], labels[25:])])
    torch.testing.assert_close(protos.get(), plain)
    paper = ClassPrototypes(2, 3, 8, normalize=True)
    paper.compute([(z, labels)])
    torch.testing.assert_close(paper.get(), F.normalize(plain, dim=-1))


def test_sau_config_uses_the_plain_mean_prototypes():
    model = build_sau()
    g = torch.Generator().manual_seed(1)
    z = F.normalize(torch.randn(2, 60, 128, generator=g), dim=-1)
    labels = torch.arange(60) % C
    model.prototypes.compute([(z, labels)])
    plain = torch.stack([torch.stack([z[v, labels == c].mean(0)
                                      for c in range(C)]) for v in range(2)])
    assert plain.norm(dim=-1).max() < 0.7
    torch.testing.assert_close(model.prototypes.get(), plain)


def plain_class_means(z, labels, num_classes):
    return torch.stack([torch.stack([z[v, labels == c].mean(0)
                                     for c in range(num_classes)])
                        for v in range(len(z))])


def test_classifier_default_prototypes_are_the_plain_mean():
    """DualBranchClassifier's own default (no ``normalize_prototypes`` in
    the config): the plain mean of the unit projections, norm < 1 for
    classes of non-identical vectors, not Eq. 10's unit vector."""
    cfg = Config.fromfile(SAU)
    model_cfg = cfg.model.copy()
    del model_cfg['normalize_prototypes']
    model_cfg['data_preprocessor'] = cfg.data_preprocessor
    model = MODELS.build(model_cfg)
    g = torch.Generator().manual_seed(2)
    z = F.normalize(torch.randn(2, 40, 128, generator=g), dim=-1)
    labels = torch.arange(40) % C
    model.prototypes.compute([(z, labels)])
    plain = plain_class_means(z, labels, C)
    norms = model.prototypes.get().norm(dim=-1)
    assert norms.max() < 0.8  # 4 random unit vectors per class
    torch.testing.assert_close(model.prototypes.get(), plain)


@pytest.mark.parametrize('config', ['resnet50_imagenetlt.py',
                                    'resnext50_imagenetlt.py'])
def test_imagenet_lt_sau_configs_use_the_plain_mean_prototypes(config):
    """The ImageNet-LT SAU configs leave the option to the classifier's
    default: their model's prototypes are the plain mean."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs/sau', config))
    assert 'normalize_prototypes' not in cfg.model
    model_cfg = cfg.model.copy()
    model_cfg['data_preprocessor'] = cfg.data_preprocessor
    model = MODELS.build(model_cfg)
    n = model.num_classes
    assert n == 1000
    g = torch.Generator().manual_seed(3)
    dim = model.projector.out_channels
    z = F.normalize(torch.randn(2, 2 * n, dim, generator=g), dim=-1)
    labels = torch.arange(2 * n) % n
    model.prototypes.compute([(z, labels)])
    assert model.prototypes.get().norm(dim=-1).max() < 0.95
    torch.testing.assert_close(model.prototypes.get(),
                               (z[:, :n] + z[:, n:]) / 2)


def test_mix_branch_reads_v1_and_contrastive_branch_v2_v3(monkeypatch):
    """MixUp and CutMix mix ``inputs[SAUView.V1]`` (crop + flip) with the
    partner ``inputs[SAUView.PARTNER]``; the contrastive branch encodes
    ``inputs[SAUView.V2]`` then ``inputs[SAUView.V3]``."""
    from sau_mm.models.classifiers import dual_branch_classifier as module
    model = build_sau(use_prototypes=False)
    model.train()
    inputs = views(6, seed=4)
    mixed = {}

    def spy(name, fn):
        def wrapped(x, y, partner, partner_y, *args, **kwargs):
            mixed[name] = (x, partner)
            return fn(x, y, partner, partner_y, *args, **kwargs)
        return wrapped

    monkeypatch.setattr(module, 'mixup', spy('mix', module.mixup))
    monkeypatch.setattr(module, 'cutmix', spy('cut', module.cutmix))
    encoded = []
    encode = model._encode
    monkeypatch.setattr(model, '_encode',
                        lambda batches: encoded.extend(batches) or
                        encode(batches))
    labels = torch.arange(6) % C
    model.loss(inputs, samples(labels, [False, True] * 3, labels,
                               [False] * 6))
    for name in ('mix', 'cut'):
        x, partner = mixed[name]
        assert torch.equal(x, inputs[SAUView.V1]), name
        assert torch.equal(partner, inputs[SAUView.PARTNER]), name
    assert len(encoded) == 4
    assert torch.equal(encoded[2], inputs[SAUView.V2])
    assert torch.equal(encoded[3], inputs[SAUView.V3])


def test_missing_class_and_never_computed_prototypes_are_errors():
    z, labels = spread_embeddings()
    with pytest.raises(ValueError, match=r'Classes \[3\]'):
        ClassPrototypes(2, 4, 8).compute([(z, labels)])
    model = build_sau(tiny=True)
    model.train()
    data = samples(torch.arange(8) % C, [False, True] * 4,
                   torch.arange(8) % C, [False] * 8)
    with pytest.raises(RuntimeError, match='PrototypeUpdateHook'):
        model.loss(views(8), data)
    # Without prototypes the same batch trains.
    losses = build_sau(tiny=True, use_prototypes=False).loss(views(8), data)
    assert torch.isfinite(losses['loss_sc'])


def test_update_prototypes_embeds_the_contrastive_views_in_eval_mode():
    model = build_sau(tiny=True, use_prototypes=False)
    model.train()
    inputs = views(2 * C, seed=3)
    batch = dict(inputs=[v * 40 + 120 for v in inputs[:SAUView.PARTNER]],
                 data_samples=samples(torch.arange(2 * C) % C,
                                      [False] * 2 * C))
    model.update_prototypes([batch])
    assert model.training  # restored
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(batch, False)
        expected = []
        for view in (SAUView.V2, SAUView.V3):
            z = model.project(data['inputs'][view])
            expected.append(torch.stack([z[[c, c + C]].mean(0)
                                         for c in range(C)]))
    torch.testing.assert_close(model.prototypes.get(), torch.stack(expected))


class Spy:
    """Wraps a module's forward and records its positional arguments."""

    def __init__(self, module):
        self.forward, self.calls = module.forward, []
        module.forward = self

    def __call__(self, *args):
        self.calls.append(args)
        return self.forward(*args)


def correction_call(correction_view):
    """A tiny SAU model's label-correction and L_SC arguments for one batch,
    the eval-mode z of the batch's v1 and the model (``v1_means``: the class
    means of the eval-mode z of the prototype batch's v1)."""
    model = build_sau(tiny=True, correction_view=correction_view)
    model.train()
    inputs = views(2 * C, seed=4)
    real = dict(inputs=[v * 40 + 120 for v in inputs[:SAUView.PARTNER]],
                data_samples=samples(torch.arange(2 * C) % C,
                                     [False] * 2 * C))
    model.update_prototypes([real])
    model.eval()
    with torch.no_grad():
        z = model.project(model.data_preprocessor(real, False)['inputs'][
            SAUView.V1])
    model.v1_means = torch.stack([z[[c, c + C]].mean(0) for c in range(C)])
    model.train()
    corrector = Spy(model.label_corrector)
    contrastive = Spy(model.contrastive_loss)
    data = samples(torch.arange(8) % C, [False, True] * 4,
                   torch.arange(8) % C, [False] * 8)
    model.loss(views(8, seed=5), data)
    assert model.training  # the eval-mode pass restores training mode
    model.eval()
    with torch.no_grad():
        z_v1 = model.project(views(8, seed=5)[SAUView.V1])
    return corrector.calls[0], contrastive.calls[0], z_v1, model


def test_label_correction_judges_the_contrastive_views_by_default():
    (feats, _, _, protos, _), (z, _, _, sc_protos), _, model = \
        correction_call('contrastive')
    assert feats.shape == (8, 2, 16) and feats is z
    assert protos.shape == (2, C, 16) and protos is sc_protos
    assert model.prototypes.get().shape == (2, C, 16)


def test_v1_correction_judges_v1_against_v1_prototypes():
    (feats, _, _, protos, _), (z, _, _, sc_protos), z_v1, model = \
        correction_call('v1')
    assert feats.shape == (8, 1, 16)
    torch.testing.assert_close(feats[:, 0], z_v1)
    assert z.shape == (8, 2, 16) and sc_protos.shape == (2, C, 16)
    value = model.prototypes.get()          # v2, v3, then v1
    assert value.shape == (3, C, 16)
    torch.testing.assert_close(protos, value[2:])
    torch.testing.assert_close(sc_protos, value[:2])
    torch.testing.assert_close(value[2], model.v1_means)
    with pytest.raises(ValueError, match='correction_view'):
        build_sau(tiny=True, correction_view='v2')


# ----------------------------------------------------------- initialisation
def linear_layers(model):
    return [m for part in (model.head, model.projector)
            for m in part.modules() if isinstance(m, nn.Linear)]


def test_every_linear_weight_is_kaiming_normal():
    torch.manual_seed(0)
    model = build_sau()
    model.init_weights()
    layers = linear_layers(model)
    assert len(layers) == 4  # classifier + 3 projector layers
    for layer in layers:
        fan_in = layer.weight.size(1)
        kaiming = math.sqrt(2 / fan_in)
        assert layer.weight.std().item() == pytest.approx(kaiming, rel=0.1)
        bound = 1 / math.sqrt(fan_in)  # PyTorch's bias init, untouched
        assert layer.bias.abs().max() <= bound
        assert layer.bias.abs().max() > bound / 2
    # The other choice: MMPretrain's head init (std 0.01) and PyTorch's
    # Linear init (std 1 / sqrt(3 fan_in)).
    other = build_sau(linear_init='module_default')
    other.init_weights()
    head, *projector = linear_layers(other)
    assert head.weight.std().item() == pytest.approx(0.01, rel=0.1)
    for layer in projector:
        default = 1 / math.sqrt(3 * layer.weight.size(1))
        assert layer.weight.std().item() == pytest.approx(default, rel=0.1)


# --------------------------------------------------- classification branch
def reference_mix_loss(logits, labels, partner_labels, lam, weights,
                       partner_weights):
    """sum_i w~_i l_i / sum_i w~_i, l_i = -sum_k t_ik log softmax_k,
    t = lam * onehot(y) + (1 - lam) * onehot(y'), w~ = lam w + (1 - lam) w'."""
    num, den = 0.0, 0.0
    for row, y, yp, w, wp in zip(logits.tolist(), labels, partner_labels,
                                 weights, partner_weights):
        log_norm = math.log(sum(math.exp(v) for v in row))
        loss = -(lam * (row[y] - log_norm) + (1 - lam) * (row[yp] - log_norm))
        w_mix = lam * w + (1 - lam) * wp
        num += w_mix * loss
        den += w_mix
    return num / den


def test_mixup_loss_goes_through_the_head_with_weighted_mean():
    model = build_sau(beta_cut=0.0, gamma_sc=0.0, synthetic_weight=0.5)
    model.train()
    labels, partner_labels = [0, 3, 5, 9, 2, 2], [1, 1, 4, 9, 0, 7]
    syn, partner_syn = [False, True, True, False, True, False], \
        [True, False, True, False, False, False]
    inputs = views(6, seed=1)
    np.random.seed(7)
    losses = model.loss(inputs, samples(labels, syn, partner_labels,
                                        partner_syn))
    assert set(losses) == {'loss_mix', 'synthetic_frac'}
    np.random.seed(7)
    lam = np.random.beta(1.0, 1.0)
    mixed = lam * inputs[SAUView.V1] + (1 - lam) * inputs[SAUView.PARTNER]
    with torch.no_grad():
        logits = model.head((model.extract_feat(mixed)[-1], ))
    expected = reference_mix_loss(
        logits, labels, partner_labels, lam,
        [0.5 if s else 1.0 for s in syn],
        [0.5 if s else 1.0 for s in partner_syn])
    assert losses['loss_mix'].item() == pytest.approx(expected, rel=1e-5)


def test_missing_is_synthetic_is_an_error_not_real():
    model = build_sau(use_prototypes=False)
    data = samples([0, 1], [None, None], [0, 1], [False, False])
    with pytest.raises(KeyError, match='is_synthetic'):
        model.loss(views(2), data)


def test_loader_partner_needs_the_partner_view():
    model = build_sau(use_prototypes=False)
    data = samples([0, 1], [False, True], [0, 1], [False, False])
    with pytest.raises(ValueError, match='MixPartnerDataset'):
        model.loss(views(2)[:SAUView.PARTNER], data)


# ------------------------------------------------------------------ configs
def sau_cifar_configs():
    """Every SAU config on CIFAR: the named ones and every ablation."""
    configs = glob.glob(osp.join(ROOT, 'configs/sau/**/*.py'), recursive=True)
    return sorted(c for c in configs
                  if 'cifar' in osp.basename(c) or '/ablations/' in c)


def test_the_sau_cifar_config_list_includes_the_ablations():
    configs = sau_cifar_configs()
    assert len(configs) >= 20
    assert any('components_ce_real_synthetic' in c for c in configs)


@pytest.mark.parametrize('config', sau_cifar_configs())
def test_every_sau_cifar_config_evaluates_after_every_epoch(config):
    """The best-of-run accuracy is taken over the same evaluations (every
    epoch, as the authors) in every SAU CIFAR run, ablations included."""
    cfg = Config.fromfile(config)
    dataset = cfg.train_dataloader.dataset
    data_root = dataset.get('data_root') or dataset.dataset.data_root
    assert 'cifar' in data_root
    assert cfg.train_cfg.val_interval == 1
    assert cfg.default_hooks.checkpoint.save_best == 'lt/top1'
    if '/ablations/' not in config:
        hooks = [h['type'] for h in cfg.custom_hooks]
        assert hooks.count('PrototypeUpdateHook') == 1
        assert hooks.count('LabelCorrectionHook') == 1
