"""Batched per-sample augmentations on the device (SAU's views,
docs/method.md#views-and-normalisation),
equal to the CPU (PIL / torchvision) transforms for the same parameters and
drawn with the same distributions; see :mod:`.transforms` and
:mod:`.functional`. :mod:`.recipe` turns a CPU view (transform configs) into
its batch ops."""
from . import functional  # noqa: F401
from .transforms import (AA_OPS, BatchCIFAR10AutoAugment,  # noqa: F401
                         BatchCompose, BatchCutout, BatchRandomCropFlip,
                         BatchSimAugment, BatchTransform)
from .recipe import batch_ops, sau_batch_views  # noqa: F401
