"""Filter DiffuLT samples with a classifier trained on the real LT data.

python tools/diffult_filter.py MANIFEST CLS_CONFIG CLS_CHECKPOINT
    [--out OUT] [--rule centroid|agreement] [--quantile 0.1] [--threshold 0.5]
    [--target-count N] [--batch-size 256] [--num-workers 2] [--device cuda]
    [--cfg-options k=v ...]

The command line lives in sau_mm.cli.diffult_filter (also ``python -m
sau_mm.cli.diffult_filter``); see its docstring.
"""
import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
from sau_mm.cli.diffult_filter import main

if __name__ == '__main__':
    main()
