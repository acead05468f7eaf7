"""Analysis of runs and synthetic sets: run tables and figures
(:func:`compare_runs`), confusion matrices, the synthetic-set report, SAU's
noise detector scored against planted bad images and the results ledger.
Not imported by ``import sau_mm`` (it needs matplotlib)."""
from .compare import compare_runs  # noqa: F401
from .run_records import RunRecord, WorkDirError, load_run  # noqa: F401
