"""Train a model from a config.

python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
    [--no-validate] [--cfg-options k=v ...]

The command line lives in sau_mm.cli.train (also ``python -m
sau_mm.cli.train``); see its docstring.
"""
import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
from sau_mm.cli.train import main

if __name__ == '__main__':
    main()
