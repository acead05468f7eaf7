"""SAU's views of one training sample, in the single order that the data
pipeline, the mix-partner dataset, the classifier and the prototype pass
all use (docs/method.md#views-and-normalisation)."""
from enum import IntEnum
from typing import Sequence

from mmpretrain.datasets.transforms import MultiView
from mmpretrain.registry import TRANSFORMS


class SAUView(IntEnum):
    """Position of each view in a SAU training sample's ``inputs``."""
    V1 = 0       # crop + flip: the classification branch (MixUp / CutMix)
    V2 = 1       # v1 + AutoAugment + Cutout: first contrastive view
    V3 = 2       # SimAugment: second contrastive view
    PARTNER = 3  # v1 of the independent mix partner (MixPartnerDataset)


CONTRASTIVE_VIEWS = (SAUView.V2, SAUView.V3)


@TRANSFORMS.register_module()
class SAUViews(MultiView):
    """MultiView that builds views v1, v2, v3 from named transform lists and
    returns them in :class:`SAUView` order (``inputs[SAUView.V2]`` is v2)."""

    def __init__(self, v1: Sequence[dict], v2: Sequence[dict],
                 v3: Sequence[dict]):
        views = {SAUView.V1: v1, SAUView.V2: v2, SAUView.V3: v3}
        super().__init__(num_views=[1, 1, 1],
                         transforms=[list(views[v]) for v in sorted(views)])
