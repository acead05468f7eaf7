"""k-NN label correction of synthetic samples (paper Eq. 9,
docs/method.md#label-correction-eq-9)."""
from typing import Optional

import torch
import torch.nn.functional as F


def knn_clean_mask(view_feats: torch.Tensor,
                   labels: torch.Tensor,
                   is_synthetic: torch.Tensor,
                   prototypes: Optional[torch.Tensor] = None,
                   bank_feats: Optional[torch.Tensor] = None,
                   bank_labels: Optional[torch.Tensor] = None,
                   k: int = 1) -> torch.Tensor:
    """Clean flags (N,) bool; real samples are always clean.

    For view v the neighbour bank is the batch's REAL samples in view v, the
    prototypes of view v (``prototypes`` (V, C, D), prototype c labelled c)
    and the external bank (``bank_feats`` (V, M, D) per view or (M, D)
    shared, ``bank_labels`` (M,)); synthetic samples are never neighbours. A
    synthetic sample is clean in view v if the most frequent label among its
    k nearest bank entries (cosine similarity; k=1: the nearest one's label)
    equals its own; a tie goes to the tied label with the nearest member. It
    is clean overall only if clean in ALL views. A view whose bank is empty
    (no reals, prototypes or bank entries) counts as clean; fewer than k
    entries means all of them vote.

    Args:
        view_feats: (N, V, D) features.
        labels: (N,) class indices.
        is_synthetic: (N,) bool.
        k: number of neighbours.
    """
    if k < 1:
        raise ValueError(f'k must be >= 1, got {k}.')
    if view_feats.dim() != 3:
        raise ValueError('view_feats must be (N, V, D), got shape '
                         f'{tuple(view_feats.shape)}.')
    if (bank_feats is None) != (bank_labels is None):
        raise ValueError('bank_feats and bank_labels go together.')
    num_views = view_feats.size(1)
    labels = labels.view(-1).long()
    syn = is_synthetic.view(-1).bool()
    clean = torch.ones_like(syn)
    if not syn.any():
        return clean
    feats = F.normalize(view_feats.float(), dim=-1)
    syn_labels = labels[syn]
    for v in range(num_views):
        bank = [feats[~syn, v]]
        bank_lab = [labels[~syn]]
        if prototypes is not None:
            bank.append(F.normalize(prototypes[v].float(), dim=-1))
            bank_lab.append(torch.arange(prototypes.size(1),
                                         device=labels.device))
        if bank_feats is not None:
            extra = bank_feats[v] if bank_feats.dim() == 3 else bank_feats
            bank.append(F.normalize(extra.float(), dim=-1))
            bank_lab.append(bank_labels.view(-1).long())
        bank = torch.cat([b.to(feats.device) for b in bank])
        bank_lab = torch.cat([b.to(labels.device) for b in bank_lab])
        if bank_lab.numel() == 0:
            continue
        sims = feats[syn, v] @ bank.t()
        nn_idx = sims.topk(min(k, bank_lab.numel()), dim=1).indices
        nn_lab = bank_lab[nn_idx]  # (S, k), nearest first
        votes = (nn_lab[:, :, None] == nn_lab[:, None, :]).sum(-1)
        majority = nn_lab.gather(1, votes.argmax(1, keepdim=True)).squeeze(1)
        clean[syn] &= majority == syn_labels
    return clean
