"""Batched per-sample augmentations on the device (SAU's views,
docs/method.md#views-and-normalisation),
equal to the CPU (PIL / torchvision) transforms for the same parameters and
drawn with the same distributions; see :mod:`.transforms` and
:mod:`.functional`."""
from . import functional  # noqa: F401
from .transforms import (AA_OPS, BatchCIFAR10AutoAugment,  # noqa: F401
                         BatchCompose, BatchCutout, BatchRandomCropFlip,
                         BatchSimAugment, BatchTransform, sau_batch_views)
