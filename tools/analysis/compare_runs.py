"""Compare training runs: one row per work dir, figures.

python tools/analysis/compare_runs.py WORK_DIR [WORK_DIR ...] [--out DIR]
    [--planted MANIFEST]

The command line lives in sau_mm.cli.compare_runs (also ``python -m
sau_mm.cli.compare_runs``); see its docstring.
"""
import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
from sau_mm.cli.compare_runs import main

if __name__ == '__main__':
    main()
