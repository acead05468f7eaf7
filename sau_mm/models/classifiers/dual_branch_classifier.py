"""DualBranchClassifier: SAU's shared encoder with two branches."""
from typing import Iterable, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...datasets.transforms.sau_views import CONTRASTIVE_VIEWS, SAUView
from ..losses.utils import (is_synthetic_flags, synthetic_weights,
                            weighted_mean_factor)
from ..utils.knn_label_corrector import KNNLabelCorrector
from ..utils.mix import CUTMIX_LABELS, cutmix, mixup, sample_lambda
from ..utils.prototypes import ClassPrototypes

LINEAR_INITS = ('kaiming_normal', 'module_default')
CORRECTION_VIEWS = ('contrastive', 'v1')


@MODELS.register_module()
class DualBranchClassifier(ImageClassifier):
    """SAU (docs/method.md#sau-paper-section-3): encoder F (backbone + neck)
    shared by

    - the synthetic-unaware branch: the linear classifier ``head`` on MixUp
      and CutMix of view v1 with a mix partner (lam ~ Beta(alpha, alpha),
      drawn separately), through the head's own soft-target loss module
      (MMPretrain ``CrossEntropyLoss(use_soft=True)``): L_mix, L_cut;
    - the synthetic-aware branch: ``projector`` phi on views v2 and v3,
      z = normalize(phi(F(v))), trained with the SupCon-noise loss L_SC, with
      the class prototypes (:class:`ClassPrototypes`, owned here) as extra
      points and the synthetic samples that :class:`KNNLabelCorrector` flags
      handled by the loss's noise strategy.

    L = lambda_mix * L_mix + beta_cut * L_cut + gamma_sc * L_SC.

    Training inputs are the view batches in :class:`SAUView` order
    (v1, v2, v3, partner v1); with ``mix_partner='batch'`` the partner is a
    permutation of the batch and there is no partner view. Every data sample
    must have ``is_synthetic`` (and ``partner_label`` /
    ``partner_is_synthetic`` with a partner view), as LongTailSyntheticDataset
    and MixPartnerDataset set them. Inference and test use encoder + head
    only, exactly like ImageClassifier. The class count is the head's.

    Args:
        projector: the projection MLP config (``in_channels`` defaults to the
            head's).
        contrastive_loss: the SupConNoiseLoss config.
        lambda_mix, beta_cut, gamma_sc: loss weights (authors: 1, 1, 1); a
            weight of 0 skips the term and its encoder pass.
        mix_alpha: Beta(alpha, alpha) of the mixing ratios (1).
        mix_partner: 'loader' (authors: an independently shuffled second
            loader, see MixPartnerSampler) or 'batch'.
        cutmix_label: 'drawn' (authors: the label weight is the drawn lam) or
            'area' (the clipped box's share, timm / MMPretrain).
        label_correction: KNNLabelCorrector options (k, bank_size).
        correction_view: the view the label correction judges synthetic
            samples on: 'contrastive' (authors: z of v2 and v3, clean only if
            clean in both, against the batch's reals and the prototypes of
            those views) or 'v1' (z of v1, crop + flip, from an extra
            encoder pass without gradients in eval mode, against the
            batch's reals and v1 prototypes, computed in the same prototype
            pass). L_SC keeps v2, v3 and their prototypes either way.
        synthetic_weight: weight w of synthetic samples in the classification
            branch; a mixed sample gets w~ = lam * w_i + (1 - lam) * w_j and
            the loss is sum_i w~_i l_i / sum_i w~_i (the same normalisation as
            SyntheticWeightedClsHead; w = 1, the authors', is the plain mean).
        concat_forward: run the four batches through the encoder in one
            pass (faster; changes BatchNorm batch statistics) instead of the
            authors' four separate passes.
        use_prototypes: add the class prototypes to L_SC and the neighbour
            bank (PrototypeUpdateHook decides when they are computed).
        normalize_prototypes: L2-normalise the prototypes (paper Eq. 10)
            instead of the authors' plain mean.
        linear_init: 'kaiming_normal' (authors: Kaiming-normal weights on
            every Linear layer of head and projector, biases as PyTorch
            initialises them) or 'module_default' (MMPretrain's head init and
            PyTorch's Linear init).
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 projector: dict = dict(type='ProjectionMLP'),
                 contrastive_loss: dict = dict(type='SupConNoiseLoss'),
                 lambda_mix: float = 1.0,
                 beta_cut: float = 1.0,
                 gamma_sc: float = 1.0,
                 mix_alpha: float = 1.0,
                 mix_partner: str = 'loader',
                 cutmix_label: str = 'drawn',
                 label_correction: Optional[dict] = None,
                 correction_view: str = 'contrastive',
                 synthetic_weight: float = 1.0,
                 concat_forward: bool = False,
                 use_prototypes: bool = True,
                 normalize_prototypes: bool = False,
                 linear_init: str = 'kaiming_normal',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        for name, value, allowed in (
                ('mix_partner', mix_partner, ('loader', 'batch')),
                ('cutmix_label', cutmix_label, CUTMIX_LABELS),
                ('linear_init', linear_init, LINEAR_INITS),
                ('correction_view', correction_view, CORRECTION_VIEWS)):
            if value not in allowed:
                raise ValueError(f'{name} must be one of {allowed}, got '
                                 f'{value!r}.')
        data_preprocessor = dict(data_preprocessor or {})
        data_preprocessor.setdefault('type', 'MultiViewClsDataPreprocessor')
        super().__init__(backbone=backbone, neck=neck, head=head,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        projector = dict(projector)
        projector.setdefault('in_channels', head['in_channels'])
        self.projector = MODELS.build(projector)
        self.contrastive_loss = MODELS.build(contrastive_loss)
        self.num_classes = self.head.num_classes
        self.lambda_mix, self.beta_cut, self.gamma_sc = (lambda_mix, beta_cut,
                                                         gamma_sc)
        self.mix_alpha = mix_alpha
        self.mix_partner = mix_partner
        self.cutmix_label = cutmix_label
        self.synthetic_weight = synthetic_weight
        self.concat_forward = concat_forward
        self.use_prototypes = use_prototypes
        self.linear_init = linear_init
        self.correction_view = correction_view
        # prototype views: L_SC's, then the label correction's own (v1)
        self.prototype_views = CONTRASTIVE_VIEWS + (
            (SAUView.V1, ) if correction_view == 'v1' else ())
        feat_dim = self.projector.out_channels
        self.label_corrector = KNNLabelCorrector(
            self.num_classes,
            num_views=1 if correction_view == 'v1' else len(CONTRASTIVE_VIEWS),
            feat_dim=feat_dim, **(label_correction or {}))
        self.prototypes = ClassPrototypes(len(self.prototype_views),
                                          self.num_classes, feat_dim,
                                          normalize=normalize_prototypes)

    def init_weights(self) -> None:
        super().init_weights()
        if self.linear_init == 'kaiming_normal':
            for module in (self.head, self.projector):
                for m in module.modules():
                    if isinstance(m, nn.Linear):
                        m.reset_parameters()  # PyTorch's bias init
                        nn.init.kaiming_normal_(m.weight)

    # ------------------------------------------------ synthetic-aware branch
    def project(self, inputs: torch.Tensor) -> torch.Tensor:
        """z = normalize(phi(F(x)))."""
        return self.projector(self.extract_feat(inputs)[-1])

    @torch.no_grad()
    def update_prototypes(self, real_batches: Iterable[dict]) -> None:
        """Recompute the prototypes (of ``prototype_views``) from data
        batches of the REAL training images (this rank's share), as the
        training loader yields them (views in SAUView order), in eval mode
        without gradients."""
        was_training = self.training
        self.eval()
        try:
            self.prototypes.compute(
                self._embed_prototype_views(batch) for batch in real_batches)
        finally:
            self.train(was_training)

    def _embed_prototype_views(self, batch: dict):
        data = self.data_preprocessor(batch, False)
        z = torch.stack([self.project(data['inputs'][v])
                         for v in self.prototype_views])
        labels = torch.cat([s.gt_label for s in data['data_samples']])
        return z, labels

    @torch.no_grad()
    def _project_in_eval_mode(self, inputs: torch.Tensor) -> torch.Tensor:
        """z of ``inputs`` with BatchNorm's running statistics, no
        gradients (the label correction's own pass on v1)."""
        was_training = self.training
        self.eval()
        try:
            return self.project(inputs)
        finally:
            self.train(was_training)

    def pop_label_correction_stats(self) -> dict:
        """Label-correction statistics since the last call, summed over
        ranks: synthetic samples ``seen`` and ``flagged`` per class and the
        ``flagged_indices`` (dataset indices); resets them."""
        return self.label_corrector.pop_epoch_stats()

    def _split_prototypes(self):
        """(L_SC's prototypes (2, C, D), the label correction's)."""
        value = self.prototypes.get()
        contrastive = value[:len(CONTRASTIVE_VIEWS)]
        if self.correction_view == 'v1':
            return contrastive, value[len(CONTRASTIVE_VIEWS):]
        return contrastive, contrastive

    # ------------------------------------------------------------------ loss
    def _encode(self, batches: List[torch.Tensor]) -> List[torch.Tensor]:
        """Pooled features of each batch: separate passes (authors) or one."""
        if self.concat_forward and len(batches) > 1:
            feats = self.extract_feat(torch.cat(batches))[-1]
            return list(feats.split([len(b) for b in batches]))
        return [self.extract_feat(b)[-1] for b in batches]

    def _mix_partner(self, inputs, data_samples, labels, weights):
        """Partner images, labels and weights of the classification branch."""
        device = labels.device
        if self.mix_partner == 'batch':
            perm = torch.randperm(len(labels), device=device)
            return inputs[SAUView.V1][perm], labels[perm], weights[perm]
        if len(inputs) <= SAUView.PARTNER:
            raise ValueError(
                "mix_partner='loader' needs the partner view: wrap the "
                "training dataset in type='MixPartnerDataset' (with "
                "sampler=dict(type='MixPartnerSampler')), or set "
                "model.mix_partner='batch'.")
        partner_labels = torch.cat(
            [s.partner_label for s in data_samples]).to(device)
        partner_syn = torch.tensor(
            is_synthetic_flags(data_samples, 'partner_is_synthetic'),
            device=device)
        return (inputs[SAUView.PARTNER], partner_labels,
                synthetic_weights(partner_syn, self.synthetic_weight))

    def loss(self, inputs: Sequence[torch.Tensor],
             data_samples: List[DataSample]) -> dict:
        v1 = inputs[SAUView.V1]
        device = v1.device
        labels = torch.cat([s.gt_label for s in data_samples]).to(device)
        is_syn = torch.tensor(is_synthetic_flags(data_samples), device=device)
        weights = synthetic_weights(is_syn, self.synthetic_weight)
        partner, partner_labels, partner_weights = self._mix_partner(
            inputs, data_samples, labels, weights)
        onehot = F.one_hot(labels, self.num_classes).float()
        partner_onehot = F.one_hot(partner_labels, self.num_classes).float()

        # The batches of the active terms (weight 0 = term skipped).
        batches, targets = {}, {}
        if self.lambda_mix:
            lam = sample_lambda(self.mix_alpha)
            batches['mix'], soft = mixup(v1, onehot, partner, partner_onehot,
                                         lam)
            targets['mix'] = soft, lam * weights + (1 - lam) * partner_weights
        if self.beta_cut:
            batches['cut'], soft, lam = cutmix(
                v1, onehot, partner, partner_onehot,
                sample_lambda(self.mix_alpha), label=self.cutmix_label)
            targets['cut'] = soft, lam * weights + (1 - lam) * partner_weights
        if self.gamma_sc:
            for view in CONTRASTIVE_VIEWS:
                batches[view] = inputs[view]
        feats = dict(zip(batches, self._encode(list(batches.values()))))

        losses = {}
        for name, weight in (('mix', self.lambda_mix), ('cut', self.beta_cut)):
            if name in targets:
                soft, w = targets[name]
                losses[f'loss_{name}'] = weight * self.head.loss_module(
                    self.head((feats[name], )), soft, weight=w,
                    avg_factor=weighted_mean_factor(w))
        if self.gamma_sc:
            z = torch.stack([self.projector(feats[v])
                             for v in CONTRASTIVE_VIEWS], dim=1)
            prototypes = correction_prototypes = None
            if self.use_prototypes:
                prototypes, correction_prototypes = self._split_prototypes()
            correction_z = z
            if self.correction_view == 'v1':
                correction_z = self._project_in_eval_mode(
                    inputs[SAUView.V1])[:, None]
            sample_idx = torch.tensor([s.sample_idx for s in data_samples])
            noise = self.label_corrector(correction_z, labels, is_syn,
                                         correction_prototypes, sample_idx)
            losses['loss_sc'] = self.gamma_sc * self.contrastive_loss(
                z, labels, noise, prototypes)
            losses['noise_frac'] = (noise.sum() /
                                    is_syn.sum().clamp(min=1)).detach()
        losses['synthetic_frac'] = is_syn.float().mean()
        return losses
