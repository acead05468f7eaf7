"""Per-class quality of a synthetic set, in the feature space of a
classifier trained on the real data.

python tools/analysis/synthetic_report.py MANIFEST DATASET_CONFIG \
    ENCODER_CONFIG ENCODER_CHECKPOINT --out DIR [--noise-flags FLAGS]
    [--k 3] [--pca-dims 8] [--sheet-images 8] [--batch-size 256]
    [--num-workers 0] [--device cuda] [--cfg-options k=v ...]

The command line lives in sau_mm.cli.synthetic_report (also ``python -m
sau_mm.cli.synthetic_report``); see its docstring.
"""
import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
from sau_mm.cli.synthetic_report import main

if __name__ == '__main__':
    main()
