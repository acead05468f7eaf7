"""Filter DiffuLT samples with a classifier trained on the real LT data.

Two rules (``rule=``):

- ``'agreement'``: p = softmax(classifier logits); score = p_y (y: the
  sample's class); keep iff argmax p == y and p_y >= ``threshold``.
- ``'centroid'``: features f = ``model.extract_feat`` (neck output),
  f^ = f / ||f||; class centre mu_c = normalise(mean of f^ over the REAL
  long-tailed training images of class c); score = cos(f^, mu_y); keep iff
  score >= t_y, t_c = the ``quantile`` q of the real images of class c's
  scores to their own centre (q = 0.1: a sample must be at least as typical
  as the 10 % least typical real image of its class).

The filtered manifest keeps each kept record with ``score`` set, sorted per
class by descending score (a dataset filling class c takes the best first),
paths rewritten relative to the new manifest. A per-class report (real,
sampled, kept, dropped, threshold, short of the fill target) is written as
JSON and as a log; its summary line names the classes that kept no image
(``none_kept`` in the JSON).
"""
import json
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmpretrain.apis import init_model
from torch.utils.data import DataLoader, Dataset

from sau_mm.datasets.manifest import (ManifestRecord, read_manifest,
                                      resolve_path, write_manifest)
from sau_mm.engine.image_folder_settings import apply_image_folder_settings
from sau_mm.utils.fileio import atomic_write

from ..complement import real_training_set
from ..diffult_layout import report_paths

RULES = ('agreement', 'centroid')
# the summary line names at most this many classes that kept no image
NAMED = 20


def agreement_filter(logits: torch.Tensor, labels: torch.Tensor,
                     threshold: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """keep = (argmax p == y) & (p_y >= threshold); returns (keep, p_y)."""
    probs = logits.float().softmax(-1)
    scores = probs.gather(1, labels.view(-1, 1)).squeeze(1)
    keep = (probs.argmax(-1) == labels) & (scores >= threshold)
    return keep, scores


def class_centres(feats: torch.Tensor, labels: torch.Tensor,
                  num_classes: int) -> torch.Tensor:
    """(C, D): mu_c = normalise(mean_{y_i = c} f_i / ||f_i||)."""
    feats = F.normalize(feats.float(), dim=-1)
    counts = torch.bincount(labels, minlength=num_classes)
    if (counts == 0).any():
        missing = torch.nonzero(counts == 0).flatten().tolist()
        raise ValueError(f'No real images of class(es) {missing}: their '
                         'centres are undefined.')
    sums = torch.zeros(num_classes, feats.size(1)).index_add_(0, labels,
                                                              feats)
    return F.normalize(sums / counts[:, None], dim=-1)


def centroid_filter(real_feats: torch.Tensor, real_labels: torch.Tensor,
                    syn_feats: torch.Tensor, syn_labels: torch.Tensor,
                    num_classes: int, quantile: float
                    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Returns (keep, scores, thresholds): score = cos(f, mu_y), thresholds
    t_c = quantile q of the real class-c scores, keep = score >= t_y."""
    centres = class_centres(real_feats, real_labels, num_classes)
    real_scores = (F.normalize(real_feats.float(), dim=-1)
                   * centres[real_labels]).sum(-1)
    thresholds = torch.stack([
        torch.quantile(real_scores[real_labels == c], quantile)
        for c in range(num_classes)])
    scores = (F.normalize(syn_feats.float(), dim=-1)
              * centres[syn_labels]).sum(-1)
    return scores >= thresholds[syn_labels], scores, thresholds


class ImageList(Dataset):
    """(image path, label) pairs through an MMPretrain pipeline."""

    def __init__(self, paths: Sequence[str], labels: Sequence[int],
                 pipeline: Sequence[dict]):
        self.paths, self.labels = list(paths), list(labels)
        self.pipeline = Compose(pipeline)

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return self.pipeline(dict(img_path=self.paths[i],
                                  gt_label=self.labels[i]))


@torch.no_grad()
def extract(model, dataset, batch_size: int = 256, num_workers: int = 2
            ) -> Tuple[torch.Tensor, torch.Tensor]:
    """(features, logits) of every sample: features = last output of
    ``model.extract_feat`` (the neck), logits = ``model.head`` of them."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False,
                        num_workers=num_workers, collate_fn=pseudo_collate)
    feats, logits = [], []
    for batch in loader:
        inputs = model.data_preprocessor(batch, False)['inputs']
        out = model.extract_feat(inputs)
        feats.append(out[-1].flatten(1).cpu())
        logits.append(model.head(out).cpu())
    return torch.cat(feats), torch.cat(logits)


def filter_manifest(manifest: str, cls_config: str, cls_checkpoint: str,
                    out: str, rule: str = 'centroid', threshold: float = 0.5,
                    quantile: float = 0.1, target: Optional[int] = None,
                    batch_size: int = 256, num_workers: int = 2,
                    device: str = 'cpu') -> dict:
    """Score and filter ``manifest`` (module docstring); write ``out``,
    ``<out>.report.json`` and ``<out>.report.log``; return the report."""
    if rule not in RULES:
        raise ValueError(f'rule must be one of {RULES}, got {rule!r}.')
    cfg = Config.fromfile(cls_config) if isinstance(cls_config,
                                                    str) else cls_config
    apply_image_folder_settings(cfg)  # image-folder configs (README)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = init_model(cfg, cls_checkpoint, device=device)
    test_pipeline = (cfg.get('test_dataloader') or cfg.val_dataloader)[
        'dataset']['pipeline']
    real, _, _ = real_training_set(cfg, pipeline=test_pipeline)
    classes = real.metainfo['classes']
    records = read_manifest(manifest)
    syn_labels = torch.tensor([r.label for r in records], dtype=torch.long)
    syn_feats, syn_logits = extract(
        model, ImageList([resolve_path(manifest, r) for r in records],
                         syn_labels.tolist(), test_pipeline),
        batch_size, num_workers)
    thresholds = None
    if rule == 'agreement':
        keep, scores = agreement_filter(syn_logits, syn_labels, threshold)
    else:
        real_feats, _ = extract(model, real, batch_size, num_workers)
        real_labels = torch.tensor(
            [real.get_data_info(i)['gt_label'] for i in range(len(real))],
            dtype=torch.long)
        keep, scores, thresholds = centroid_filter(
            real_feats, real_labels, syn_feats, syn_labels, len(classes),
            quantile)
    kept = _kept_records(records, keep, scores, manifest, out)
    write_manifest(out, kept)
    report = _report(rule, threshold, quantile, classes,
                     real.real_class_counts, syn_labels, keep, scores,
                     thresholds, target)
    report.update(manifest=osp.abspath(manifest), output=osp.abspath(out),
                  classifier=osp.abspath(cls_checkpoint))
    _write_report(out, report)
    return report


def _kept_records(records: List[ManifestRecord], keep, scores, manifest,
                  out) -> List[ManifestRecord]:
    out_dir = osp.dirname(osp.abspath(out))
    kept = [(r.label, -float(s), i) for i, (r, k, s) in
            enumerate(zip(records, keep.tolist(), scores.tolist())) if k]
    result = []
    for label, neg_score, i in sorted(kept):
        rec = records[i]
        path = osp.relpath(resolve_path(manifest, rec), out_dir)
        result.append(ManifestRecord(
            path=path, label=rec.label, source=rec.source,
            score=-neg_score, prompt=rec.prompt, seed=rec.seed,
            extra=dict(rec.extra)))
    return result


def _report(rule, threshold, quantile, classes, real_counts, labels, keep,
            scores, thresholds, target) -> dict:
    target = max(real_counts) if target is None else target
    per_class = []
    for c, name in enumerate(classes):
        mask = labels == c
        n, k = int(mask.sum()), int((keep & mask).sum())
        need = max(0, target - real_counts[c])
        per_class.append(dict(
            label=c, name=name, real=real_counts[c], sampled=n, kept=k,
            dropped=n - k, needed=need, short=max(0, need - k),
            mean_score=float(scores[mask].mean()) if n else None,
            threshold=(float(thresholds[c]) if thresholds is not None
                       else threshold)))
    return dict(rule=rule,
                threshold=threshold if rule == 'agreement' else None,
                quantile=quantile if rule == 'centroid' else None,
                target=target, sampled=len(labels), kept=int(keep.sum()),
                dropped=int((~keep).sum()),
                none_kept=[r['label'] for r in per_class
                           if r['kept'] == 0 and (r['sampled'] or
                                                  r['needed'])],
                per_class=per_class)


def _write_report(out: str, report: dict) -> None:
    none = [report['per_class'][c] for c in report['none_kept']]
    named = ', '.join(f'{r["label"]} ({r["name"]})' for r in none[:NAMED])
    if len(none) > NAMED:
        named += f', and {len(none) - NAMED} more (see the table)'
    lines = [f'DiffuLT filter ({report["rule"]}): kept {report["kept"]} / '
             f'{report["sampled"]}, target {report["target"]} per class'
             + (f'; {len(none)} classes kept 0 images, they stay short of '
                f'the target (a run with this manifest needs '
                f'allow_partial_fill=True): {named}' if none else ''),
             '  class name: real sampled kept dropped needed short '
             'threshold mean_score']
    for r in report['per_class']:
        mean = '-' if r['mean_score'] is None else f'{r["mean_score"]:.4f}'
        lines.append(
            f'  {r["label"]:4d} {r["name"]}: {r["real"]} {r["sampled"]} '
            f'{r["kept"]} {r["dropped"]} {r["needed"]} {r["short"]} '
            f'{r["threshold"]:.4f} {mean}')
    text = '\n'.join(lines)
    print_log(text, logger='current')
    report_json, report_log = report_paths(out)
    atomic_write(report_json, json.dumps(report, indent=2))
    atomic_write(report_log, text + '\n')
