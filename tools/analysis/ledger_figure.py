"""Draw the per-class top-1 of recorded runs from the results ledger.

python tools/analysis/ledger_figure.py RECORD.json [RECORD.json ...]
    --out FIGURE.png [--labels NAME ...] [--at best|last]

Each RECORD.json is a ledger record (results/<config>__<run>.json, written
by record_result.py); its work dir is not needed. One line per record: the
per-class top-1 at its best (or last) evaluation against the class's real
training count. See sau_mm.analysis.results_ledger.per_class_figure.
"""
import argparse
import sys

import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
from sau_mm.analysis.results_ledger import LedgerError, per_class_figure


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('records', nargs='+', help='ledger record files')
    parser.add_argument('--out', required=True, help='PNG to write')
    parser.add_argument('--labels', nargs='+',
                        help='legend names, one per record (default: the '
                        'run names)')
    parser.add_argument('--at', choices=('best', 'last'), default='best',
                        help='which evaluation of each run (default: best)')
    args = parser.parse_args()
    try:
        path = per_class_figure(args.records, args.out, args.labels, args.at)
    except LedgerError as e:
        sys.exit(f'ledger_figure: {e}')
    print(f'{path}: per-class top-1 of {len(args.records)} recorded run(s).')


if __name__ == '__main__':
    main()
