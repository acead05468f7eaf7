"""Compare training runs: one row per work dir, figures.

python -m sau_mm.cli.compare_runs WORK_DIR [WORK_DIR ...] [--out DIR]
    [--planted MANIFEST]

Prints the Markdown table (method (config), backbone, data, IF, epochs done /
planned, top-1 last and best with its epoch, top-5, many / medium / few of
the best evaluation, wall time, device, commit; an unfinished run says so).
SAU runs on a manifest with planted bad images (tools/corrupt_manifest.py)
also show the noise detector's last-epoch precision / recall and the share
of clean synthetic images flagged; the manifest is the run's own
synthetic_manifest (relative paths from the current folder), or --planted.
With --out: DIR/runs.md (the same table), runs.csv, runs.json and the
figures (per_class_vs_count.png, shot_groups.png, learning_curves.png,
noise_flags_<run>.png for SAU runs); see sau_mm.analysis.
"""
import argparse
import sys

from sau_mm.analysis import WorkDirError, compare_runs
from sau_mm.analysis.noise_detection import NoiseDetectionError
from sau_mm.analysis.tables import markdown_table


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dirs', nargs='+', help='training work dirs')
    parser.add_argument('--out', help='folder for runs.md/csv/json and the '
                        'figures')
    parser.add_argument('--planted', help='score the noise flags of every '
                        'SAU run given against this planted manifest')
    args = parser.parse_args()
    try:
        rows = compare_runs(args.work_dirs, args.out, args.planted)
    except (WorkDirError, NoiseDetectionError, FileNotFoundError) as e:
        sys.exit(f'compare_runs: {e}')
    print(markdown_table(rows), end='')


if __name__ == '__main__':
    main()
