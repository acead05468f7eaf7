"""MultiViewClsDataPreprocessor: ClsDataPreprocessor for lists of views."""
import torch
from mmpretrain.models.utils import ClsDataPreprocessor
from mmpretrain.registry import MODELS


@MODELS.register_module()
class MultiViewClsDataPreprocessor(ClsDataPreprocessor):
    """Normalise each view of a multi-view batch like ClsDataPreprocessor.

    A training batch of SAU is a list of view batches (each (N, 3, H, W),
    from ``default_collate`` of a ``MultiView`` pipeline); each is cast,
    converted and normalised on its own and the list is returned with the
    data samples untouched. Single-view batches (validation, test) take
    ClsDataPreprocessor's path unchanged.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)) and isinstance(
                inputs[0], torch.Tensor) and inputs[0].dim() == 4:
            views = [
                super(MultiViewClsDataPreprocessor, self).forward(
                    dict(inputs=view), training=False)['inputs']
                for view in inputs
            ]
            return dict(inputs=views, data_samples=data.get('data_samples'))
        return super().forward(data, training)
