"""PackIndex: a training sample as its dataset index, for the device data
path (the images live decoded on the device; the loader moves indices)."""
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.datasets.transforms import PackInputs
from mmpretrain.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackIndex(BaseTransform):
    """Pack ``inputs = tensor(sample_idx)`` (int64, 0-d) and the data sample
    PackInputs would give (``gt_label``, ``sample_idx``; the dataset adds
    ``is_synthetic``), without loading the image.

    A batch of such samples is a 1-D index tensor; the data preprocessor
    (:class:`~sau_mm.models.utils.DeviceViewsDataPreprocessor`) looks the
    images up in the decoded-image cache and draws the views on the device.
    """

    def __init__(self):
        self.pack = PackInputs()

    def transform(self, results: dict) -> dict:
        if 'sample_idx' not in results:
            raise KeyError('PackIndex needs the sample index (sample_idx) in '
                           'the data info; LongTailSyntheticDataset sets it.')
        packed = self.pack({k: v for k, v in results.items() if k != 'img'})
        return dict(inputs=torch.tensor(int(results['sample_idx'])),
                    data_samples=packed['data_samples'])
