"""Score SAU's noise flags against a manifest with planted bad images.

python tools/analysis/noise_detection.py WORK_DIR MANIFEST [--out DIR]

WORK_DIR: a SAU run on MANIFEST (made by tools/corrupt_manifest.py, trained
with target_count = its fill target). Per epoch: precision, recall and F1
of "flagged as noise" vs "planted", overall, per class and per kind, and
the share of clean synthetic images flagged (definitions in
sau_mm/analysis/noise_detection.py). Prints the Markdown tables; writes
DIR/noise_detection.json, .md and .png (default DIR: WORK_DIR/noise_detection).
"""
import argparse
import os.path as osp
import sys

import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
from sau_mm.analysis.noise_detection import (NoiseDetectionError,
                                             detection_report,
                                             markdown_report,
                                             write_detection_report)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', help='work dir of a SAU run')
    parser.add_argument('manifest', help='the planted manifest it trained on')
    parser.add_argument('--out', help='output folder (default: '
                        'WORK_DIR/noise_detection)')
    args = parser.parse_args()
    try:
        report = detection_report(args.work_dir, args.manifest)
    except (NoiseDetectionError, FileNotFoundError) as e:
        sys.exit(f'noise_detection: {e}')
    paths = write_detection_report(
        report, args.out or osp.join(args.work_dir, 'noise_detection'))
    print(markdown_report(report), end='')
    print(f'Wrote {", ".join(paths)}.')


if __name__ == '__main__':
    main()
