"""LoadImage: the first transform of every pipeline of this toolkit."""
import mmcv
import mmengine.fileio as fileio
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadImage(BaseTransform):
    """Make ``results['img']`` an HxWx3 uint8 RGB array.

    In-memory samples (CIFAR pickles) already carry ``img`` and pass through;
    file samples are decoded from ``img_path``. A file that cannot be decoded
    raises an error naming it (never a silent skip).
    """

    def transform(self, results: dict) -> dict:
        if results.get('img') is None:
            path = results['img_path']
            try:
                img = mmcv.imfrombytes(fileio.get(path), flag='color',
                                       channel_order='rgb')
            except Exception as e:
                raise ValueError(f'Cannot read image {path!r} ({e}).') from e
            if img is None:
                raise ValueError(f'Cannot decode image {path!r}.')
            results['img'] = img
        results['img_shape'] = results['img'].shape[:2]
        results['ori_shape'] = results['img'].shape[:2]
        return results
