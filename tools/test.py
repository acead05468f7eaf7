"""Evaluate a checkpoint.

python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out preds.pkl]
    [--cfg-options k=v ...]

The command line lives in sau_mm.cli.test (also ``python -m
sau_mm.cli.test``); see its docstring.
"""
import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
from sau_mm.cli.test import main

if __name__ == '__main__':
    main()
