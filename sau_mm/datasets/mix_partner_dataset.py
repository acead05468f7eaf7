"""MixPartnerDataset: every sample comes with an independent mix partner."""
import torch
from mmcv.transforms import Compose
from mmpretrain.registry import DATASETS


@DATASETS.register_module()
class MixPartnerDataset:
    """Wrap a dataset so item i also carries a partner drawn uniformly and
    independently from the whole (balanced, real + synthetic) dataset.

    This is SAU's "second loader": the synthetic-unaware branch mixes view v1
    of each sample with view v1 of its partner. The item's ``inputs`` is the
    wrapped pipeline's views followed by the partner's view
    (``partner_pipeline``, normally v1 + PackInputs); the partner's label and
    flag are stored in the data sample as ``partner_label`` and
    ``partner_is_synthetic``. Partners come from torch's RNG (seeded and
    restored by the runner; per-worker seeds in data workers).
    """

    def __init__(self, dataset, partner_pipeline):
        self.dataset = DATASETS.build(dataset) if isinstance(dataset,
                                                             dict) else dataset
        self.partner_pipeline = Compose(partner_pipeline)
        self.metainfo = self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.dataset)

    def get_gt_labels(self):
        return self.dataset.get_gt_labels()

    def __getitem__(self, idx: int) -> dict:
        item = self.dataset[idx]
        j = int(torch.randint(len(self.dataset), ()))
        info = self.dataset.get_data_info(j)  # a fresh copy
        is_synthetic = bool(info['is_synthetic'])
        partner = self.partner_pipeline(info)
        views = item['inputs']
        views = list(views) if isinstance(views, (list, tuple)) else [views]
        item['inputs'] = views + [partner['inputs']]
        sample = item['data_samples']
        sample.set_field(partner['data_samples'].gt_label, 'partner_label')
        sample.set_field(is_synthetic, 'partner_is_synthetic')
        return item
