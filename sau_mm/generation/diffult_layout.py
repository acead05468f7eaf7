"""File names of a DiffuLT output folder (``tools/diffult_sample.py`` writes
the samples, ``tools/diffult_filter.py`` the filtered manifest beside them)::

    images/<c>/<i>.png             image i of class c (sampling)
    manifest.jsonl                 every sampled image (sampling)
    sampling.json                  the sampling settings and plan
    manifest_filtered.jsonl        the kept images, with their score (filter)
    manifest_filtered.report.json  per-class counts, rule and threshold
    manifest_filtered.report.log   the same as text

and of a generator's training work dir: ``samples/iter_N.png`` grids.
Outside :mod:`sau_mm.generation.diffult` so that the readers of these files
(analysis, pipeline) do not import the generator and diffusers.
"""
import os.path as osp
from typing import Tuple

MANIFEST = 'manifest.jsonl'
SAMPLING = 'sampling.json'
FILTERED = 'manifest_filtered.jsonl'
SAMPLES_DIR = 'samples'


def report_paths(filtered: str) -> Tuple[str, str]:
    """The ``.report.json`` and ``.report.log`` of a filtered manifest (any
    name given with ``--out``)."""
    base = osp.splitext(filtered)[0]
    return f'{base}.report.json', f'{base}.report.log'
