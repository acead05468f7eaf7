"""Sample the DiffuLT complement of a long-tailed training set.

python tools/diffult_sample.py CONFIG CHECKPOINT --out-dir D
    [--target-count N | --per-class N] [--oversample 1.0] [--guidance 0.8]
    [--scheduler ddim|ddpm] [--steps 100] [--batch-size 256] [--seed 0]
    [--device cuda] [--cfg-options k=v ...]

The command line lives in sau_mm.cli.diffult_sample (also ``python -m
sau_mm.cli.diffult_sample``); see its docstring.
"""
import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
from sau_mm.cli.diffult_sample import main

if __name__ == '__main__':
    main()
