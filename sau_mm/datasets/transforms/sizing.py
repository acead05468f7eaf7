"""A view recipe at another image size: its transform configs sized for S x S
images, from the recipe's own numbers.

Each sized transform type has a *side* key (the side of the image it puts
out: RandomCrop's ``crop_size``, SimAugment's ``size``, ...) and *length*
keys, pixel lengths relative to the side before them (RandomCrop's
``padding``, SAUCutout's ``length``). Sizing a pipeline to S sets every side
to S and scales every length by S / that side, rounded down, at least 1
(0 and None stay): the SAU recipe's RandomCrop(32, padding 4) and
Cutout(16) become RandomCrop(S, padding S // 8) and Cutout(S // 2), and a
Cutout length changed in the recipe scales with it.
"""
from typing import Optional

# transform type -> (side key or None, length keys)
SIZED = {
    'RandomCrop': ('crop_size', ('padding',)),
    'CenterCrop': ('crop_size', ()),
    'RandomResizedCrop': ('scale', ()),
    'Resize': ('scale', ()),
    'SimAugment': ('size', ()),
    'SAUCutout': (None, ('length',)),
}


def _side(value) -> int:
    return int(value[0] if isinstance(value, (list, tuple)) else value)


def _is_pipeline(value) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(t, dict) for t in value)


def size_pipeline(pipeline, size: int) -> None:
    """Size ``pipeline`` (a list of transform configs, changed in place) for
    ``size`` x ``size`` images (see the module doc). A transform holding
    pipelines (SAUViews' v1, v2, v3) has each sized on its own; a list of
    pipelines (a data preprocessor's views) likewise."""
    if pipeline and all(_is_pipeline(p) for p in pipeline):
        for p in pipeline:
            size_pipeline(p, size)
        return
    side: Optional[int] = None  # the side before the current transform
    for t in pipeline:
        for value in t.values():
            if _is_pipeline(value):
                size_pipeline(value, size)
        if t.get('type') not in SIZED:
            continue
        side_key, length_keys = SIZED[t['type']]
        if side_key is not None:
            side = _side(t[side_key])
            t[side_key] = (size, size) if isinstance(
                t[side_key], (list, tuple)) else size
        for key in length_keys:
            if not t.get(key):
                continue
            if side is None:
                raise ValueError(
                    f'{t["type"]}({key}={t[key]}) comes before any crop or '
                    'resize in its pipeline, so its length cannot follow '
                    'the image size: put it after the crop (RandomCrop, '
                    'SimAugment, ...).')
            t[key] = max(1, t[key] * size // side)
