"""DualBranchClassifier: SAU's shared encoder with two branches."""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..losses.soft_target_ce import soft_target_cross_entropy
from ..utils.knn_label_corrector import KNNLabelCorrector
from ..utils.mix import cutmix, mixup, sample_lambda


@MODELS.register_module()
class DualBranchClassifier(ImageClassifier):
    """SAU (METHOD.md, 3): encoder F (backbone + neck) shared by

    - the synthetic-unaware branch: the linear classifier (``head``) trained
      on MixUp and CutMix of view v1 with a mix partner, soft-target CE:
      L_mix, L_cut (lambda ~ Beta(alpha, alpha), drawn separately);
    - the synthetic-aware branch: ``projector`` phi on views v2 and v3,
      z = normalize(phi(F(v))), trained with the SupCon-noise loss L_SC, with
      the class prototypes as extra points and the synthetic samples that
      :class:`KNNLabelCorrector` flags handled by the loss's noise strategy.

    L = lambda_mix * L_mix + beta_cut * L_cut + gamma_sc * L_SC.

    Training inputs are the view batches [v1, v2, v3, partner_v1] (see
    :class:`~sau_mm.datasets.MixPartnerDataset`); with
    ``mix_partner='batch'`` the partner is a permutation of the batch and
    the inputs are [v1, v2, v3]. Inference and test use encoder + head only,
    exactly like ImageClassifier.

    Args:
        projector: the projection MLP config.
        contrastive_loss: the SupConNoiseLoss config.
        num_classes: number of classes (prototypes, one-hot targets).
        lambda_mix, beta_cut, gamma_sc: loss weights (authors: 1, 1, 1).
        mix_alpha: Beta(alpha, alpha) of the mixing ratios (1).
        mix_partner: 'loader' (authors: independent uniform draw) or 'batch'.
        label_correction: KNNLabelCorrector options (k, bank_size).
        synthetic_weight: weight w of synthetic samples in the
            classification branch (1 = authors); a mixed sample gets
            lam * w_i + (1 - lam) * w_j.
        concat_forward: run the four batches through the encoder in one
            pass (faster; changes BatchNorm batch statistics) instead of the
            authors' four separate passes.
        use_prototypes: add the class prototypes to L_SC and the neighbour
            bank (needs PrototypeUpdateHook).
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 projector: dict,
                 contrastive_loss: dict,
                 num_classes: int,
                 lambda_mix: float = 1.0,
                 beta_cut: float = 1.0,
                 gamma_sc: float = 1.0,
                 mix_alpha: float = 1.0,
                 mix_partner: str = 'loader',
                 label_correction: Optional[dict] = None,
                 synthetic_weight: float = 1.0,
                 concat_forward: bool = False,
                 use_prototypes: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if mix_partner not in ('loader', 'batch'):
            raise ValueError("mix_partner must be 'loader' or 'batch'")
        data_preprocessor = dict(data_preprocessor or {})
        data_preprocessor.setdefault('type', 'MultiViewClsDataPreprocessor')
        super().__init__(backbone=backbone, neck=neck, head=head,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.projector = MODELS.build(projector)
        self.contrastive_loss = MODELS.build(contrastive_loss)
        self.num_classes = num_classes
        self.lambda_mix, self.beta_cut, self.gamma_sc = (lambda_mix, beta_cut,
                                                         gamma_sc)
        self.mix_alpha = mix_alpha
        self.mix_partner = mix_partner
        self.synthetic_weight = synthetic_weight
        self.concat_forward = concat_forward
        self.use_prototypes = use_prototypes
        self.label_corrector = KNNLabelCorrector(
            num_classes, feat_dim=projector.get('out_channels', 128),
            **(label_correction or {}))
        self.register_buffer(
            'prototypes',
            torch.zeros(2, num_classes, projector.get('out_channels', 128)))
        self.register_buffer('has_prototypes', torch.zeros((), dtype=bool))

    # ------------------------------------------------------------ prototypes
    def project(self, inputs: torch.Tensor) -> torch.Tensor:
        """z = normalize(phi(F(x)))."""
        return self.projector(self.extract_feat(inputs)[-1])

    def set_prototypes(self, prototypes: torch.Tensor) -> None:
        """Per-view class prototypes (2, C, D), L2-normalised."""
        self.prototypes.copy_(prototypes)
        self.has_prototypes.fill_(True)

    # ------------------------------------------------------------------ loss
    def _encode(self, batches: List[torch.Tensor]) -> List[torch.Tensor]:
        """Pooled features of each batch: separate passes (authors) or one."""
        if self.concat_forward and len(batches) > 1:
            feats = self.extract_feat(torch.cat(batches))[-1]
            return list(feats.split([len(b) for b in batches]))
        return [self.extract_feat(b)[-1] for b in batches]

    def loss(self, inputs: Sequence[torch.Tensor],
             data_samples: List[DataSample]) -> dict:
        v1, v2, v3 = inputs[:3]
        device = v1.device
        labels = torch.cat([s.gt_label for s in data_samples]).to(device)
        is_syn = torch.tensor([bool(s.get('is_synthetic', False))
                               for s in data_samples], device=device)
        weights = torch.where(is_syn, self.synthetic_weight, 1.0)
        if self.mix_partner == 'loader':
            partner = inputs[3]
            partner_labels = torch.cat(
                [s.partner_label for s in data_samples]).to(device)
            partner_weights = torch.tensor(
                [self.synthetic_weight if s.partner_is_synthetic else 1.0
                 for s in data_samples], device=device)
        else:
            perm = torch.randperm(len(v1), device=device)
            partner, partner_labels = v1[perm], labels[perm]
            partner_weights = weights[perm]
        onehot = F.one_hot(labels, self.num_classes).float()
        partner_onehot = F.one_hot(partner_labels, self.num_classes).float()

        # Build the batches of the active terms (weight 0 = term skipped).
        batches, targets = {}, {}
        if self.lambda_mix:
            lam = sample_lambda(self.mix_alpha)
            batches['mix'], targets['mix'] = mixup(v1, onehot, partner,
                                                   partner_onehot, lam)
            targets['mix_w'] = lam * weights + (1 - lam) * partner_weights
        if self.beta_cut:
            batches['cut'], targets['cut'], lam = cutmix(
                v1, onehot, partner, partner_onehot,
                sample_lambda(self.mix_alpha))
            targets['cut_w'] = lam * weights + (1 - lam) * partner_weights
        if self.gamma_sc:
            batches['v2'], batches['v3'] = v2, v3
        feats = dict(zip(batches, self._encode(list(batches.values()))))

        losses = {}
        for name, weight in (('mix', self.lambda_mix), ('cut', self.beta_cut)):
            if name in feats:
                losses[f'loss_{name}'] = weight * soft_target_cross_entropy(
                    self.head((feats[name], )), targets[name],
                    targets[f'{name}_w'])
        if self.gamma_sc:
            z = torch.stack([self.projector(feats['v2']),
                             self.projector(feats['v3'])], dim=1)
            prototypes = self.prototypes if (self.use_prototypes and bool(
                self.has_prototypes)) else None
            sample_idx = torch.tensor([s.sample_idx for s in data_samples])
            noise = self.label_corrector(z, labels, is_syn, prototypes,
                                         sample_idx)
            losses['loss_sc'] = self.gamma_sc * self.contrastive_loss(
                z, labels, noise, prototypes)
            losses['noise_frac'] = (noise.sum() /
                                    is_syn.sum().clamp(min=1)).detach()
        losses['synthetic_frac'] = is_syn.float().mean()
        return losses
