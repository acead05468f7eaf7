"""How SAU's k-NN label correction flags synthetic images against other
neighbour banks and on other views, with a trained SAU checkpoint.

The config's training set, its ``synthetic_manifest`` replaced by a planted
manifest of ``tools/corrupt_manifest.py`` (the ground truth), is embedded,
z = normalize(phi(F(x))), BatchNorm in eval mode, on one of two kinds of
views (``VIEWS``):

- ``test``: the config's test pipeline, no augmentation, the same z in both
  contrastive views; embedded once;
- ``train``: SAU's two contrastive training views (v2, v3) drawn anew in
  every simulated epoch by the model's ``DeviceViewsDataPreprocessor`` (a
  ``*_device`` config; a CPU-path run's checkpoint loads into it);
- ``v1``: the classification branch's view (crop + flip), drawn so, its z
  in both slots.

Prototypes are the class means of these real embeddings per view
(L2-normalised when the model's are). A run's flags differ from the probe's
only in BatchNorm (batch statistics there) and in which draws the prototypes
come from.

One simulated epoch per repeat; a synthetic image is flagged in it when
:func:`~sau_mm.models.utils.label_correction.knn_clean_mask` (the model's k;
a FIFO bank of ``label_correction.bank_size`` is not replayed) flags it in at
least one of its draws, as a run's ``noise_flags`` count.
Banks (``BANKS``):

- ``batch reals + prototypes`` (SAU's rule): the real images of the
  image's training batch, the dataset shuffled and cut into batches of the
  config's batch size, and the prototypes;
- ``filled batch reals + prototypes``: the same, the batches drawn from a
  dataset in which every class is filled to the largest class (the paper's
  CIFAR setting; the synthetic slots of class c cycle over its images, so
  an image can be drawn more than once);
- ``prototypes``; ``batch reals`` (no prototypes);
- ``all reals + prototypes``: every real training image.

Each repeat is scored like an epoch of ``noise_detection`` (precision,
recall per kind, false-flag rate, per class) and per draw (flagged draws /
draws, of the clean and of the planted images: filled batches draw an image
several times an epoch, which raises its chance of one flag); the report
averages the repeats.
"""
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from sau_mm.datasets.image_cache import build_or_load
from sau_mm.datasets.transforms.sau_views import CONTRASTIVE_VIEWS, SAUView
from sau_mm.engine.hooks.decoded_images_hook import DEFAULT_CACHE_DIR
from sau_mm.generation.complement import long_tail_training_set
from sau_mm.models.utils.label_correction import knn_clean_mask
from .encoder import encode, eval_pipeline, load_classifier
from .noise_detection import PlantedSet, load_planted_set, score_flags
from .synthetic_sets import path_key
from .tables import fmt_share, render_markdown, write_json_and_markdown

# bank name: (batches the reals come from: 'run', 'filled' or None;
#             prototypes in the bank; every real image in the bank)
BANKS = {
    'batch reals + prototypes': ('run', True, False),
    'filled batch reals + prototypes': ('filled', True, False),
    'prototypes': (None, True, False),
    'batch reals': ('run', False, False),
    'all reals + prototypes': (None, True, True),
}
# views: the training views (SAUView positions) whose z fill the two
# contrastive slots of the rule; 'test': the test pipeline's, no augmentation
VIEWS = {'test': None, 'train': CONTRASTIVE_VIEWS,
         'v1': (SAUView.V1, SAUView.V1)}


class ProbeError(ValueError):
    """An input the probe cannot use."""


@dataclass
class ProbeSet:
    """A SAU model and its training set with a planted synthetic part."""
    model: torch.nn.Module
    cfg: object
    dataset: object               # its pipeline: the config's test pipeline
    labels: torch.Tensor          # (N,) training-set labels
    is_synthetic: torch.Tensor    # (N,) bool
    truth: PlantedSet
    synthetic_rows: np.ndarray    # the truth's record of each synthetic sample
    batch_size: int
    class_names: List[str]


def load_probe_set(config: str, checkpoint: str, manifest: str,
                   cfg_options: Optional[dict] = None) -> ProbeSet:
    """The model of ``checkpoint`` and the training set of ``config`` with
    ``manifest`` as its synthetic part; an error unless it draws every
    record of ``manifest`` exactly as a run would."""
    truth = load_planted_set(manifest)
    model, cfg = load_classifier(config, checkpoint, cfg_options)
    if not hasattr(model, 'label_corrector'):
        raise ProbeError(f'{config}: model {type(model).__name__} has no '
                         'label correction; give a SAU config and checkpoint.')
    dataset, _, _ = long_tail_training_set(
        cfg, pipeline=eval_pipeline(cfg), synthetic_manifest=manifest)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    is_syn = np.array([bool(d['is_synthetic']) for d in infos])
    row_of = {p: i for i, p in enumerate(truth.paths)}
    rows = [row_of.get(path_key(d['img_path'])) for d in infos
            if d['is_synthetic']]
    if None in rows:
        raise ProbeError(f'The training set draws synthetic images that '
                         f'{manifest} does not list.')
    if len(set(rows)) != len(truth.paths):
        raise ProbeError(
            f'The training set draws {len(set(rows))} of the '
            f'{len(truth.paths)} records of {manifest}: set its '
            'target_count to the manifest\'s fill target (the run\'s).')
    names = dataset.metainfo.get('classes') or \
        [str(c) for c in range(model.num_classes)]
    return ProbeSet(model=model, cfg=cfg, dataset=dataset,
                    labels=torch.tensor([int(d['gt_label']) for d in infos]),
                    is_synthetic=torch.from_numpy(is_syn), truth=truth,
                    synthetic_rows=np.array(rows),
                    batch_size=int(cfg.train_dataloader.batch_size),
                    class_names=list(names))


def embed_test_views(ps: ProbeSet, batch_size: int = 256
                         ) -> torch.Tensor:
    """(N, 2, D): z of the test pipeline's view, once per contrastive view."""
    feats, _ = encode(ps.model, ps.dataset, batch_size=batch_size,
                      desc='embed')
    with torch.no_grad():
        z = ps.model.projector(torch.from_numpy(feats)).float()
    return z[:, None].expand(-1, len(CONTRASTIVE_VIEWS), -1)


def attach_decoded_images(ps: ProbeSet) -> None:
    """Hand the training set's decoded images (the run's cache folder, built
    there if missing) to the model's DeviceViewsDataPreprocessor."""
    preprocessor = ps.model.data_preprocessor
    if not hasattr(preprocessor, 'draw_views'):
        raise ProbeError(
            f'{ps.cfg.filename}: training views are drawn by '
            'DeviceViewsDataPreprocessor; give the *_device config of the '
            'run (the same model) or use the test views.')
    decoded = build_or_load(
        ps.dataset, ps.cfg.get('decoded_cache_dir', DEFAULT_CACHE_DIR),
        image_size=ps.dataset.target_size)
    preprocessor.set_decoded_images(decoded.images)


@torch.no_grad()
def embed_train_views(ps: ProbeSet, seed: int,
                      views: Sequence[int] = CONTRASTIVE_VIEWS,
                      batch_size: int = 256) -> torch.Tensor:
    """(N, len(views), D): z of freshly drawn training views (SAUView
    positions; default the contrastive v2, v3) (:func:`attach_decoded_images`
    first)."""
    preprocessor = ps.model.data_preprocessor
    preprocessor.reseed(seed)
    out = []
    for start in range(0, len(ps.labels), batch_size):
        idx = torch.arange(start, min(start + batch_size, len(ps.labels)))
        drawn = preprocessor(dict(inputs=idx, data_samples=None),
                             True)['inputs']
        z = {v: ps.model.project(drawn[v]).float() for v in set(views)}
        out.append(torch.stack([z[v] for v in views], dim=1))
    return torch.cat(out)


def class_prototypes(z: torch.Tensor, labels: torch.Tensor,
                     is_synthetic: torch.Tensor, normalize: bool
                     ) -> torch.Tensor:
    """(V, C, D): per view, the mean z of each class's real samples."""
    real = ~is_synthetic
    counts = torch.bincount(labels[real])
    if (counts == 0).any() or len(counts) < int(labels.max()) + 1:
        raise ProbeError('Every class needs a real training image (its '
                         'prototype).')
    sums = torch.zeros(z.size(1), len(counts), z.size(2))
    for v in range(z.size(1)):
        sums[v].index_add_(0, labels[real], z[real, v])
    means = sums / counts[None, :, None]
    return F.normalize(means, dim=-1) if normalize else means


def _batches(labels: np.ndarray, is_syn: np.ndarray, source: str,
             size: int, rng: np.random.Generator) -> List[np.ndarray]:
    """Index arrays (into the training set; -1 an empty slot) of one
    simulated epoch's batches (``source``: see ``BANKS``)."""
    if source == 'run':
        order = rng.permutation(len(labels))
    else:  # 'filled'
        counts = np.bincount(labels[~is_syn])
        slots = []
        for c, n in enumerate(counts):
            own = np.flatnonzero((labels == c) & is_syn)
            fill = max(counts) - n
            slots.append(np.flatnonzero((labels == c) & ~is_syn))
            slots.append(np.resize(own, fill) if len(own) else
                         np.full(fill, -1))
        order = rng.permutation(np.concatenate(slots))
    return [order[i:i + size] for i in range(0, len(order), size)]


def simulate_epoch(z: torch.Tensor, labels: torch.Tensor,
                   is_synthetic: torch.Tensor, prototypes: torch.Tensor,
                   bank: str, batch_size: int, rng: np.random.Generator,
                   k: int = 1) -> Tuple[np.ndarray, np.ndarray]:
    """(draws, flags): per synthetic sample, in training-set order, how often
    it was drawn in the epoch and in how many of those draws it was flagged
    against ``bank`` (one of ``BANKS``); z (N, V, D), prototypes (V, C, D)."""
    source, use_prototypes, all_reals = BANKS[bank]
    syn = is_synthetic
    syn_index = torch.full((len(labels), ), -1, dtype=torch.long)
    syn_index[syn] = torch.arange(int(syn.sum()))
    draws = np.zeros(int(syn.sum()), dtype=np.int64)
    flags = np.zeros_like(draws)
    extra = dict(prototypes=prototypes) if use_prototypes else {}
    if all_reals:
        extra.update(bank_feats=z[~syn].transpose(0, 1),
                     bank_labels=labels[~syn])
    if source is None:
        queries = torch.nonzero(syn).flatten().numpy()
        batches = [queries[i:i + batch_size]
                   for i in range(0, len(queries), batch_size)]
    else:
        batches = _batches(labels.numpy(), syn.numpy(), source, batch_size,
                           rng)
    for batch in batches:
        idx = torch.from_numpy(batch[batch >= 0])
        if not syn[idx].any():
            continue
        noise = ~knn_clean_mask(z[idx], labels[idx], syn[idx], k=k, **extra)
        np.add.at(draws, syn_index[idx[syn[idx]]].numpy(), 1)
        np.add.at(flags, syn_index[idx[noise]].numpy(), 1)
    return draws, flags


def per_draw_rates(draws: np.ndarray, flags: np.ndarray,
                   planted: np.ndarray) -> dict:
    """Flagged draws / draws of the clean and of the planted samples."""
    def rate(mask):
        total = int(draws[mask].sum())
        return int(flags[mask].sum()) / total if total else None
    return dict(draw_false_flag_rate=rate(~planted),
                draw_recall=rate(planted))


def _mean(values: List[Optional[float]]) -> Optional[float]:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def average_scores(runs: List[dict]) -> dict:
    """The mean over repeats of ``score_flags`` results (ratios only)."""
    keys = ('precision', 'recall', 'false_flag_rate', 'chance_precision',
            'draw_false_flag_rate', 'draw_recall')
    out = {k: _mean([r[k] for r in runs]) for k in keys}
    out['flagged'] = _mean([r['flagged'] for r in runs])
    out['per_kind'] = {
        kind: {k: _mean([r['per_kind'][kind][k] for r in runs])
               for k in ('recall', 'precision')}
        for kind in runs[0]['per_kind']}
    out['per_class'] = [
        dict(label=row['label'], name=row['name'],
             false_flag_rate=_mean([r['per_class'][i]['false_flag_rate']
                                    for r in runs]))
        for i, row in enumerate(runs[0]['per_class'])]
    return out


def probe(ps: ProbeSet, views: str = 'test', repeats: int = 3,
          seed: int = 0, banks: Optional[List[str]] = None) -> dict:
    """Scores of every bank on ``views`` (module docstring), averaged over
    ``repeats`` simulated epochs."""
    banks = banks or list(BANKS)
    unknown = [b for b in banks if b not in BANKS]
    if unknown or views not in VIEWS:
        raise ProbeError(f'Unknown bank(s) {unknown} or views {views!r}: '
                         f'banks are {list(BANKS)}, views {list(VIEWS)}.')
    if VIEWS[views]:
        attach_decoded_images(ps)
    rng = {bank: np.random.default_rng(seed) for bank in banks}
    planted = ps.truth.kind_array[ps.synthetic_rows] != ''
    runs = {bank: [] for bank in banks}
    z = None
    for epoch in range(repeats):
        if VIEWS[views]:
            z = embed_train_views(ps, seed + epoch, VIEWS[views])
        elif z is None:
            z = embed_test_views(ps)
        prototypes = class_prototypes(z, ps.labels, ps.is_synthetic,
                                      ps.model.prototypes.normalize)
        for bank in banks:
            draws, flags = simulate_epoch(
                z, ps.labels, ps.is_synthetic, prototypes, bank,
                ps.batch_size, rng[bank], ps.model.label_corrector.k)
            flagged = np.zeros(len(ps.truth.paths), dtype=bool)
            flagged[ps.synthetic_rows] = flags > 0
            runs[bank].append(dict(
                score_flags(ps.truth, flagged, ps.class_names),
                **per_draw_rates(draws, flags, planted)))
    return dict(manifest=osp.abspath(ps.truth.manifest),
                kinds=ps.truth.kind_names, records=len(ps.truth.paths),
                views=views, repeats=repeats,
                k=ps.model.label_corrector.k, batch_size=ps.batch_size,
                banks={bank: average_scores(runs[bank]) for bank in banks})


def markdown_probe(report: dict) -> str:
    """The banks' table and their false-flag rate per class."""
    kinds = report['kinds']
    head = ['bank', 'flagged', 'false-flag rate (clean)', 'precision',
            'recall'] + [f'recall {k}' for k in kinds] + [
            'per draw: false flags', 'per draw: recall']
    body = [[bank, f'{row["flagged"]:.0f}', fmt_share(row['false_flag_rate']),
             fmt_share(row['precision']), fmt_share(row['recall'])] +
            [fmt_share(row['per_kind'][k]['recall']) for k in kinds] +
            [fmt_share(row['draw_false_flag_rate']),
             fmt_share(row['draw_recall'])]
            for bank, row in report['banks'].items()]
    classes = next(iter(report['banks'].values()))['per_class']
    per_class = [[bank] + [fmt_share(c['false_flag_rate'])
                           for c in row['per_class']]
                 for bank, row in report['banks'].items()]
    return (f'Label-correction probe: {report["records"]} synthetic records '
            f'of {report["manifest"]}, {report["views"]} views, '
            f'k={report["k"]}, batch '
            f'{report["batch_size"]}, mean of {report["repeats"]} simulated '
            'epochs\n\n' + render_markdown(head, body) +
            '\n\nFalse-flag rate per class (clean synthetic images of the '
            'class flagged)\n\n' +
            render_markdown(['bank'] + [c['name'] for c in classes],
                            per_class) + '\n')


def write_probe(report: dict, out_dir: str) -> List[str]:
    """``label_correction_probe.json`` and ``.md`` in ``out_dir``; their
    paths."""
    return write_json_and_markdown(report, markdown_probe(report), out_dir,
                                   'label_correction_probe')
