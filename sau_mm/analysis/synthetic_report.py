"""Synthetic-set quality per class, in the feature space of a classifier
this toolkit trained on the real data (no external weights).

Real set: the real long-tailed training images of the dataset config (its
LongTailSyntheticDataset without the synthetic manifest; same source, IF,
subset seed). Synthetic set: the manifest's images, split into kept /
dropped by its filter and marked when SAU flagged them as noise
(:mod:`.synthetic_sets`). Both go through the encoder config's test
pipeline (no augmentation) and :func:`.encoder.encode` (pooled backbone +
neck features, logits).

Per class c, for the KEPT synthetic images (what training reads) and, when
the filter dropped some, for ALL of them:

- improved precision / recall, k = 3 (:mod:`.feature_metrics`): real class-c
  features vs synthetic class-c features, the larger set cut to the size of
  the smaller by a seeded draw (``equal_size``: k-NN radii depend on the
  set size);
- Frechet distance between the same two equal-size sets (biased upwards
  for small sets: compare sets of similar sizes), marked unreliable where
  the sets have n <= d samples (d: the feature dimension; the covariances
  are singular), and the Frechet distance of the same sets projected onto
  the top d' principal directions of the pooled real features
  (``pca_dims``, default 8; reliable where n > d');
- agreement: share of the synthetic images the encoder classifies as c
  (``real_agreement``: the same on the real images, a reference; an
  encoder that is also the filter's classifier agrees by construction);
- counts, and the filter scores (mean and min of the kept, mean of the
  dropped) when the manifest has them.

Overall: the same metrics on all classes pooled, and their mean over the
classes where they are defined. Outputs (:func:`write_report`):
``synthetic_report.json``, ``synthetic_report.md``, ``sheets/*.png`` and
``index.html`` (:mod:`.report_page`).
"""
import os
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np
from mmengine.logging import print_log

from sau_mm.generation.complement import real_training_set
from sau_mm.generation.text2image.plan import real_image
from .encoder import ImageFiles, encode, eval_pipeline, load_classifier, \
    load_config
from .feature_metrics import (equal_size, frechet_distance, frechet_reliable,
                              pca_basis, precision_recall, project)
from .report_page import fd_cell, fd_note, write_page, write_sheets
from .synthetic_sets import load_synthetic_set
from .tables import render_markdown, write_json_and_markdown

METRIC_KEYS = ('precision', 'recall', 'frechet', 'frechet_pca', 'agreement')
# d' of the projected Frechet distance: reliable for classes compared on
# more than 8 images each
PCA_DIMS = 8


def set_metrics(real_feats: np.ndarray, syn_feats: np.ndarray,
                syn_pred: np.ndarray, syn_labels: np.ndarray,
                k: int, seed: int = 0,
                basis: Optional[Tuple[np.ndarray, np.ndarray]] = None
                ) -> dict:
    """precision, recall (None when a set has <= k samples) and Frechet
    distance (None below 2) of the two sets cut to equal size
    (``equal_size``, ``compared`` rows each), ``frechet_reliable`` =
    compared > d (None without a distance); with a PCA ``basis`` (mean,
    D x d' components) also ``frechet_pca``, the distance of both sets
    projected onto it, and ``frechet_pca_reliable`` = compared > d';
    agreement over every synthetic image (None without any); ``n``
    synthetic images."""
    real_eq, syn_eq = equal_size(real_feats, syn_feats, seed)
    pr = precision_recall(real_eq, syn_eq, k) or {}
    fd = frechet_distance(real_eq, syn_eq)
    out = dict(precision=pr.get('precision'), recall=pr.get('recall'),
               frechet=fd,
               frechet_reliable=(None if fd is None else frechet_reliable(
                   len(syn_eq), real_feats.shape[1])))
    if basis is not None:
        fd = frechet_distance(project(real_eq, basis),
                              project(syn_eq, basis))
        out.update(frechet_pca=fd, frechet_pca_reliable=(
            None if fd is None else frechet_reliable(len(syn_eq),
                                                     basis[1].shape[1])))
    return dict(out, agreement=(float((syn_pred == syn_labels).mean())
                                if len(syn_labels) else None),
                n=int(len(syn_labels)), compared=int(len(syn_eq)))


def _mean_defined(rows: List[dict], key: str) -> Optional[float]:
    """Mean of ``key`` over the rows where it is defined (and, for a
    Frechet distance, reliable)."""
    values = [r[key] for r in rows if r.get(key) is not None
              and r.get(f'{key}_reliable') is not False]
    return float(np.mean(values)) if values else None


def _score_stats(scores: np.ndarray) -> dict:
    s = scores[~np.isnan(scores)]
    return dict(mean=float(s.mean()), min=float(s.min())) if len(s) else \
        dict(mean=None, min=None)


def synthetic_report(manifest: str, dataset_config: str,
                     encoder_config: str, encoder_checkpoint: str,
                     out_dir: str, cfg_options: Optional[dict] = None,
                     noise_flags: Optional[str] = None, k: int = 3,
                     sheet_images: int = 8, batch_size: int = 256,
                     num_workers: int = 0, device: str = 'cpu',
                     seed: int = 0, pca_dims: int = PCA_DIMS) -> dict:
    """Compute the report (module docstring), write it into ``out_dir``
    and return it. ``cfg_options`` apply to both configs (as in
    training); ``seed``: the equal-size draws and the contact sheets;
    ``pca_dims``: d' of the projected Frechet distance (at most the
    feature dimension)."""
    syn = load_synthetic_set(manifest, noise_flags)
    model, enc_cfg = load_classifier(encoder_config, encoder_checkpoint,
                                     cfg_options, device)
    pipeline = eval_pipeline(enc_cfg)
    real, _, _ = real_training_set(load_config(dataset_config, cfg_options),
                                   pipeline=pipeline)
    classes = list(real.metainfo['classes'])
    num_classes = len(classes)
    bad = syn.labels[(syn.labels < 0) | (syn.labels >= num_classes)]
    if len(bad):
        raise ValueError(f'{manifest}: label {int(bad[0])} is outside the '
                         f'{num_classes} classes of {dataset_config}.')
    real_feats, real_logits = encode(model, real, batch_size, num_workers,
                                     desc='real images')
    if real_logits.shape[1] != num_classes:
        raise ValueError(
            f'The encoder {encoder_config} predicts {real_logits.shape[1]} '
            f'classes, {dataset_config} has {num_classes}: use a classifier '
            'trained on this dataset.')
    real_labels = np.array([real.get_data_info(i)['gt_label']
                            for i in range(len(real))])
    size = real.target_size or real_image(real, 0).shape[:2]
    syn_feats, syn_logits = encode(
        model, ImageFiles(syn.paths, syn.labels.tolist(), pipeline, size),
        batch_size, num_workers, desc='synthetic images')
    real_pred, syn_pred = real_logits.argmax(1), syn_logits.argmax(1)
    has_dropped = bool((~syn.kept).any())
    basis = pca_basis(real_feats, min(pca_dims, real_feats.shape[1]))

    per_class = []
    for c, name in enumerate(classes):
        r = real_labels == c
        s = syn.labels == c
        sk = s & syn.kept
        row = dict(
            label=c, name=name, real=int(r.sum()), synthetic=int(s.sum()),
            kept=int(sk.sum()), dropped=int((s & ~syn.kept).sum()),
            flagged=int((s & syn.flagged).sum()),
            real_agreement=(float((real_pred[r] == c).mean()) if r.any()
                            else None),
            score_kept=_score_stats(syn.scores[sk]),
            score_dropped=_score_stats(syn.scores[s & ~syn.kept]),
            kept_metrics=set_metrics(real_feats[r], syn_feats[sk],
                                     syn_pred[sk], syn.labels[sk], k, seed,
                                     basis))
        if has_dropped:
            row['all_metrics'] = set_metrics(real_feats[r], syn_feats[s],
                                             syn_pred[s], syn.labels[s], k,
                                             seed, basis)
        per_class.append(row)

    overall = dict(kept=set_metrics(real_feats, syn_feats[syn.kept],
                                    syn_pred[syn.kept],
                                    syn.labels[syn.kept], k, seed, basis))
    if has_dropped:
        overall['all'] = set_metrics(real_feats, syn_feats, syn_pred,
                                     syn.labels, k, seed, basis)
    defined = [row['kept_metrics'] for row in per_class]
    report = dict(
        manifest=osp.abspath(manifest), filter=syn.filter,
        score_meaning=syn.score_meaning,
        sources=sorted({r.source for r in syn.records}),
        noise_flags=osp.abspath(noise_flags) if noise_flags else None,
        dataset_config=dataset_config, encoder_config=encoder_config,
        encoder_checkpoint=osp.abspath(encoder_checkpoint),
        cfg_options=dict(cfg_options or {}), k=k,
        feature_dim=int(real_feats.shape[1]),
        pca_dims=int(basis[1].shape[1]),
        counts=dict(real=int(len(real_labels)), synthetic=len(syn.records),
                    kept=int(syn.kept.sum()),
                    dropped=int((~syn.kept).sum()),
                    flagged=int(syn.flagged.sum())),
        real_agreement=float((real_pred == real_labels).mean()),
        overall=overall,
        class_mean={key: _mean_defined(defined, key) for key in METRIC_KEYS},
        classes=per_class)
    write_report(report, out_dir, real, syn, sheet_images, seed)
    return report


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return '-'
    return f'{value:.{digits}f}'


def markdown(report: dict) -> str:
    """The report as Markdown: summary, then one row per class."""
    c = report['counts']
    d, dp = report['feature_dim'], report['pca_dims']
    lines = [
        f'# Synthetic set: {report["manifest"]}', '',
        f'- filter: {report["filter"]}; score: '
        f'{report["score_meaning"] or "none in the manifest"}; sources: '
        f'{", ".join(report["sources"])}',
        f'- images: {c["real"]} real, {c["synthetic"]} synthetic, '
        f'{c["kept"]} kept, {c["dropped"]} dropped, {c["flagged"]} flagged '
        'as noise' + (f' ({report["noise_flags"]})' if report['noise_flags']
                      else ''),
        f'- encoder: {report["encoder_config"]}, '
        f'{report["encoder_checkpoint"]} ({d}-d '
        f'features; agreement on the real training images '
        f'{report["real_agreement"]:.3f})',
        f'- metrics of the kept synthetic images against the real images of '
        f'the same class: improved precision / recall (k = {report["k"]}), '
        'Frechet distance (FD), both on equal-size sets (the larger one cut '
        'to the smaller by a seeded draw, n images each); agreement = share '
        'of the synthetic images the encoder classifies as their label', '']
    head = ('set', 'n', 'precision', 'recall', f'FD (d = {d})',
            f"FD, PCA d' = {dp}", 'agreement')
    rows = [('all classes pooled, kept', report['overall']['kept']),
            ('mean over classes, kept', report['class_mean'])]
    if 'all' in report['overall']:
        rows.insert(1, ('all classes pooled, all generated',
                        report['overall']['all']))
    lines.append(render_markdown(head, (
        (name, m.get('compared', '-'), _fmt(m['precision']),
         _fmt(m['recall']), fd_cell(m, 'frechet', d),
         fd_cell(m, 'frechet_pca', dp), _fmt(m['agreement']))
        for name, m in rows)))
    head = ('class', 'real', 'synthetic', 'kept', 'dropped', 'flagged',
            'score kept (mean / min)', 'score dropped (mean)', 'precision',
            'recall', 'n', f'FD (d = {d})', f"FD, PCA d' = {dp}", 'agreement',
            'real agreement')
    lines += ['', render_markdown(head, (
        (f'{r["label"]} {r["name"]}', r['real'], r['synthetic'], r['kept'],
         r['dropped'], r['flagged'],
         f'{_fmt(r["score_kept"]["mean"])} / {_fmt(r["score_kept"]["min"])}',
         _fmt(r['score_dropped']['mean']),
         _fmt(r['kept_metrics']['precision']),
         _fmt(r['kept_metrics']['recall']), r['kept_metrics']['compared'],
         fd_cell(r['kept_metrics'], 'frechet', d),
         fd_cell(r['kept_metrics'], 'frechet_pca', dp),
         _fmt(r['kept_metrics']['agreement']), _fmt(r['real_agreement']))
        for r in report['classes']))]
    lines += ['', '"-": undefined (precision / recall need more than k '
              'images in both sets, FD 2). ' + fd_note(report) + ' "Pooled" '
              'mixes the classes in different proportions on the two sides '
              '(real: long-tailed; a complement: mostly tail), so the '
              'per-class numbers and their mean are the ones to read.']
    return '\n'.join(lines) + '\n'


def write_report(report: dict, out_dir: str, real, syn, sheet_images: int,
                 seed: int) -> None:
    """JSON, Markdown, contact sheets and the HTML page into ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    sheets = write_sheets(report, real, syn, out_dir, sheet_images, seed)
    for row, path in zip(report['classes'], sheets):
        row['sheet'] = osp.relpath(path, out_dir)
    write_json_and_markdown(report, markdown(report), out_dir,
                            'synthetic_report')
    page = write_page(report, out_dir)
    print_log(f'Synthetic report: {page} (and synthetic_report.json / .md)',
              logger='current')
