"""Compare runs: the table (Markdown, CSV, JSON) and the figures of a list
of work dirs, in one call."""
import os
import os.path as osp
from typing import List, Optional, Sequence

from .figures import comparison_figures
from .noise_detection import last_epoch_detection
from .run_records import load_run
from .tables import markdown_table, run_row, write_csv, write_json


def compare_runs(work_dirs: Sequence[str], out_dir: Optional[str] = None,
                 planted: Optional[str] = None) -> List[dict]:
    """One row per work dir (``tables.run_row``), in the given order, with
    the detector's last-epoch scores of SAU runs on a planted manifest
    (``planted``, or by default each run's own synthetic manifest when it is
    one; ``noise_detection.last_epoch_detection``). With ``out_dir``:
    writes ``runs.md`` (the Markdown table), ``runs.csv``, ``runs.json`` and
    the figures (``figures`` module) there."""
    if not work_dirs:
        raise ValueError('compare_runs: give at least one work dir.')
    records = [load_run(w) for w in work_dirs]
    rows = [run_row(r, last_epoch_detection(r, planted)) for r in records]
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        with open(osp.join(out_dir, 'runs.md'), 'w') as f:
            f.write(markdown_table(rows))
        write_csv(rows, osp.join(out_dir, 'runs.csv'))
        write_json(rows, osp.join(out_dir, 'runs.json'))
        comparison_figures(records, out_dir)
    return rows
