"""Record a finished run in the results ledger.

python tools/analysis/record_result.py WORK_DIR [WORK_DIR ...]
    [--results results] [--allow-unfinished]

Writes results/<config>__<run>.json ("kind": "run": config, schedule,
device, commit, metrics last / best, many / medium / few, wall time,
synthetic data); then `python tools/analysis/results_table.py` renders the
README's results section. See sau_mm.analysis.results_ledger.
"""
import argparse
import os.path as osp
import sys

import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
from sau_mm.analysis import WorkDirError
from sau_mm.analysis.results_ledger import LedgerError, record_result

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dirs', nargs='+', help='training work dirs')
    parser.add_argument('--results', default=osp.join(REPO, 'results'),
                        help='ledger folder (default: the repository\'s '
                        'results/)')
    parser.add_argument('--allow-unfinished', action='store_true',
                        help='record a run that did not reach its planned '
                        'epochs (marked unfinished)')
    args = parser.parse_args()
    for work_dir in args.work_dirs:
        try:
            path = record_result(work_dir, args.results, REPO,
                                 args.allow_unfinished)
        except (LedgerError, WorkDirError) as e:
            sys.exit(f'record_result: {e}')
        print(f'{work_dir} -> {path}')


if __name__ == '__main__':
    main()
