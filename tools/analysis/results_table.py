"""Render the results ledger into the README's results section.

python tools/analysis/results_table.py [--results results] [--readme README.md]

Rewrites the text between <!-- results:start --> and <!-- results:end -->
from results/*.json ("kind": "run"; other files skipped): GPU runs and CPU
short-schedule runs in separate tables. See sau_mm.analysis.results_ledger.
"""
import argparse
import os.path as osp
import sys

import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
from sau_mm.analysis.results_ledger import LedgerError, update_readme

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--results', default=osp.join(REPO, 'results'))
    parser.add_argument('--readme', default=osp.join(REPO, 'README.md'))
    args = parser.parse_args()
    try:
        n = update_readme(args.readme, args.results)
    except LedgerError as e:
        sys.exit(f'results_table: {e}')
    print(f'{args.readme}: results section rewritten from {n} run(s) in '
          f'{args.results}.')


if __name__ == '__main__':
    main()
