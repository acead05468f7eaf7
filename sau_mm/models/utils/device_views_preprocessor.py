"""DeviceViewsDataPreprocessor: the device data path's end on the model.

The training loader carries dataset indices only (pipeline ``PackIndex``);
this data preprocessor holds every training image decoded once
(:func:`~sau_mm.datasets.image_cache.build_or_load`, handed over by
:class:`~sau_mm.engine.hooks.DecodedImagesHook`) on the model's device, looks
the batch up there and draws each view with the batched per-sample ops of
:mod:`sau_mm.models.utils.batch_views` (same distributions as the CPU
transforms), then normalises like :class:`MultiViewClsDataPreprocessor`.
"""
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmpretrain.registry import MODELS

from .batch_views import BatchCompose, batch_ops
from .data_preprocessor import MultiViewClsDataPreprocessor


def is_index_batch(inputs) -> bool:
    """A batch of ``PackIndex`` samples: ``(N,)`` indices, or ``(N, 2)``
    (index, partner index) pairs from ``MixPartnerDataset``."""
    return (isinstance(inputs, torch.Tensor) and inputs.dtype == torch.int64
            and inputs.dim() in (1, 2))


@MODELS.register_module()
class DeviceViewsDataPreprocessor(MultiViewClsDataPreprocessor):
    """Index batches -> views drawn on the device -> normalised batches.

    Training batch ``inputs``: ``(N,)`` dataset indices, or ``(N, 2)``
    (index, partner index). Output ``inputs``: ``views[k]`` applied to the
    indexed images for each k, then, for pairs, ``partner_view`` applied to
    the partners' images; a single view is a tensor (as ClsDataPreprocessor
    gives, batch augments included), several a list (SAUView order). Image
    batches (validation, test) take MultiViewClsDataPreprocessor's path.

    The ops run outside autocast (exact uint8 levels) with this
    preprocessor's own ``torch.Generator`` on the images' device;
    :meth:`reseed` makes a batch's draws a function of the keys given (the
    hook passes seed, stream, epoch or iteration, rank), so a resumed run
    draws what the uninterrupted one did.

    Args:
        views: one list of transform configs per view of the sample: the
            CPU path's transforms (e.g. the config's ``view1``), each drawn
            by its batch op (:func:`~.batch_views.batch_ops`), or batch-op
            configs (``BATCH_AUGMENTS``, e.g. ``BatchRandomCropFlip``).
        partner_view: the list for the partner of a pair, or None.
        image_size: the side of the decoded images (they must be square),
            the input side of the batch ops made from CPU transforms.
        channels_last: return 4-D inputs in ``torch.channels_last`` memory
            format (both paths).
        **kwargs: ClsDataPreprocessor's (``mean``, ``std``, ``num_classes``,
            ``batch_augments``, ...).
    """

    def __init__(self, views: Sequence[Sequence[dict]],
                 partner_view: Optional[Sequence[dict]] = None,
                 image_size: int = 32, channels_last: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        if not views:
            raise ValueError('DeviceViewsDataPreprocessor needs at least one '
                             'view (a list of transform configs).')
        self.image_size = image_size
        self.views = [BatchCompose(batch_ops(v, image_size)) for v in views]
        self.partner_view = (BatchCompose(batch_ops(partner_view, image_size))
                             if partner_view else None)
        self.channels_last = channels_last
        self._images: Optional[torch.Tensor] = None
        self._generator: Optional[torch.Generator] = None

    # ------------------------------------------------------------- the state
    def set_decoded_images(self, images) -> None:
        """Take the decoded training images, ``(N, H, W, 3)`` uint8 RGB in
        dataset index order (array or tensor), onto this module's device."""
        if isinstance(images, np.ndarray):
            images = torch.from_numpy(np.array(images))  # owned, writable
        if images.dtype != torch.uint8 or images.dim() != 4 \
                or images.shape[-1] != 3:
            raise ValueError('Decoded images must be (N, H, W, 3) uint8, got '
                             f'{tuple(images.shape)} {images.dtype}.')
        if tuple(images.shape[1:3]) != (self.image_size,) * 2:
            raise ValueError(
                f'Decoded images are {images.shape[1]}x{images.shape[2]}, '
                f'the views are drawn for {self.image_size}x'
                f'{self.image_size} (data_preprocessor.image_size; '
                'image_folder.image_size in an image-folder config).')
        self._images = images.to(self._device)
        self._generator = torch.Generator(device=self._images.device)
        self._generator.manual_seed(0)

    def reseed(self, *keys: int) -> None:
        """Seed the augmentation generator from integer ``keys``."""
        if self._generator is None:
            raise RuntimeError('reseed() before set_decoded_images().')
        state = np.random.SeedSequence([int(k) for k in keys]).generate_state(
            2, np.uint32)
        self._generator.manual_seed(int(state[0]) << 31 | int(state[1]) >> 1)

    @property
    def num_images(self) -> int:
        return 0 if self._images is None else len(self._images)

    # ----------------------------------------------------------- the batches
    def draw_views(self, indices: torch.Tensor) -> List[torch.Tensor]:
        """The uint8 ``(N, 3, H, W)`` views of an index batch (see class)."""
        if self._images is None:
            raise RuntimeError(
                'DeviceViewsDataPreprocessor got a batch of dataset indices '
                'but holds no decoded images: add '
                "dict(type='DecodedImagesHook') to custom_hooks (the *_device "
                'configs do).')
        # checked on the loader's host tensor: no device sync per step
        if indices.max() >= len(self._images) or indices.min() < 0:
            raise IndexError(
                f'Sample index {int(indices.max())} out of the '
                f'{len(self._images)} decoded images: the cache was built '
                'for another dataset.')
        indices = indices.to(self._images.device, non_blocking=True)
        pairs = indices.dim() == 2
        if pairs and self.partner_view is None:
            raise ValueError('Index pairs (MixPartnerDataset) need '
                             'partner_view in DeviceViewsDataPreprocessor.')
        main = indices[:, 0] if pairs else indices
        images = self._images[main].permute(0, 3, 1, 2)
        with torch.autocast(images.device.type, enabled=False):
            views = [view(images, self._generator) for view in self.views]
            if pairs:
                partner = self._images[indices[:, 1]].permute(0, 3, 1, 2)
                views.append(self.partner_view(partner, self._generator))
        return views

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        if is_index_batch(inputs):
            views = self.draw_views(inputs)
            data = dict(data, inputs=views[0] if len(views) == 1 else views)
        elif training:
            raise ValueError(
                'DeviceViewsDataPreprocessor trains on index batches: end the '
                "training pipeline with dict(type='PackIndex') (see the "
                '*_device configs), or use the CPU-path data preprocessor.')
        out = super().forward(data, training)
        if self.channels_last:
            x = out['inputs']
            out['inputs'] = ([v.contiguous(memory_format=torch.channels_last)
                              for v in x] if isinstance(x, list) else
                             x.contiguous(memory_format=torch.channels_last))
        return out
