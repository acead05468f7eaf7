"""LoadImage: the first transform of every pipeline of this toolkit."""
import mmcv
import mmengine.fileio as fileio
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadImage(BaseTransform):
    """Make ``results['img']`` an HxWx3 uint8 RGB array.

    In-memory samples (CIFAR pickles) already hold ``img`` and pass through;
    file samples are decoded from ``img_path``. A file that cannot be decoded
    raises an error naming it (never a silent skip). An image whose size
    differs from ``results['resize_to']`` (height, width; set by
    LongTailSyntheticDataset from its ``image_size``) is resized to it
    (area interpolation when shrinking, bicubic otherwise), so a later crop
    never cuts a part out of a larger image. ``ori_shape`` keeps the size
    of the file.
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
        results['ori_shape'] = results['img'].shape[:2]
        target = results.get('resize_to')
        if target is not None and tuple(results['img'].shape[:2]) != tuple(
                target):
            h, w = target
            img = results['img']
            shrink = img.shape[0] >= h and img.shape[1] >= w
            results['img'] = mmcv.imresize(
                img, (w, h), interpolation='area' if shrink else 'bicubic')
        results['img_shape'] = results['img'].shape[:2]
        return results
