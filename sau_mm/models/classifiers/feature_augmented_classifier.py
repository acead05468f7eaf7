"""FeatureAugmentedClassifier: GLAG stage 2
(docs/method.md#stage-2-calibrated-tail-features-our-choice).

GLAG's code and full text are not public; this is this project's documented
reading of its stage 2, not GLAG's published method."""
from typing import Iterable, List, Optional

import torch
import torch.nn.functional as F
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..utils.mix import mixup, sample_lambda
from ..utils.tail_feature_generator import CalibratedTailFeatures


@MODELS.register_module()
class FeatureAugmentedClassifier(ImageClassifier):
    """An ImageClassifier whose encoder (backbone + neck) is frozen (eval
    mode always, no gradient) and whose head is re-trained on real features
    plus generated tail-class features:

    1. x = F(images) of the batch, under ``no_grad``;
    2. joined with the generated features of :class:`CalibratedTailFeatures`
       (``tail_features``; its docstring states the calibration and the
       balancing rule: tail class c gets B (n_max - n_c) / N features in
       expectation for a batch of B);
    3. with ``mix=True``, MixUp over the joined batch at the feature level:
       x~ = lam x + (1 - lam) x[perm], y~ likewise, lam ~ Beta(alpha, alpha)
       (alpha = 1), perm a permutation of the joined batch;
    4. soft-target CE through the head's own loss module (MMPretrain
       ``CrossEntropyLoss(use_soft=True)``), averaged over the joined batch.

    The statistics are computed once at stage start by
    :meth:`compute_feature_statistics` (``FeatureStatisticsHook`` says when
    and passes the real training images). Stage 2 starts from the stage-1
    checkpoint (``load_from``); inference is encoder + head exactly like
    ImageClassifier, and the state dict holds the same keys, so the
    checkpoint loads into an ImageClassifier and ``tools/test.py``
    evaluates it like any other.

    Args:
        generator: CalibratedTailFeatures options: ``k`` (3), ``b`` (0.1),
            ``tail_threshold`` ('median').
        mix: MixUp the joined batch. Default True.
        mix_alpha: Beta(alpha, alpha) of lam. Default 1.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = None,
                 generator: Optional[dict] = None,
                 mix: bool = True,
                 mix_alpha: float = 1.0,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(backbone=backbone, neck=neck, head=head,
                         pretrained=pretrained,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.num_classes = self.head.num_classes
        self.tail_features = CalibratedTailFeatures(self.num_classes,
                                                    **(generator or {}))
        self.mix = mix
        self.mix_alpha = mix_alpha
        for module in self._encoder():
            module.requires_grad_(False)
        self.train(self.training)

    def _encoder(self):
        return [self.backbone] + ([self.neck] if self.with_neck else [])

    def train(self, mode: bool = True):
        """The encoder stays in eval mode (frozen BatchNorm statistics)."""
        super().train(mode)
        for module in self._encoder():
            module.eval()
        return self

    @torch.no_grad()
    def compute_feature_statistics(self, real_batches: Iterable[dict]
                                   ) -> str:
        """Compute the tail Gaussians from data batches of the REAL training
        images (this rank's share; the sums are all-reduced), in eval mode;
        returns a one-line summary for the log."""
        was_training = self.training
        self.eval()
        try:
            self.tail_features.compute(self._features(batch)
                                       for batch in real_batches)
        finally:
            self.train(was_training)
        return self.tail_features.summary()

    def _features(self, batch: dict):
        data = self.data_preprocessor(batch, False)
        feats = self.extract_feat(data['inputs'])[-1]
        labels = torch.cat([s.gt_label for s in data['data_samples']])
        return feats, labels

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> dict:
        with torch.no_grad():
            feats = self.extract_feat(inputs)[-1]
        labels = torch.cat([s.gt_label for s in data_samples]).to(
            feats.device)
        generated, gen_labels = self.tail_features.sample(
            self.tail_features.num_to_generate(len(labels)))
        x = torch.cat([feats, generated.to(feats)])
        target = F.one_hot(torch.cat([labels, gen_labels.to(labels)]),
                           self.num_classes).float()
        if self.mix:
            perm = torch.randperm(len(x), device=x.device)
            x, target = mixup(x, target, x[perm], target[perm],
                              sample_lambda(self.mix_alpha))
        loss = self.head.loss_module(self.head((x, )), target)
        return dict(loss_cls=loss,
                    num_generated=torch.tensor(float(len(gen_labels)),
                                               device=x.device))
