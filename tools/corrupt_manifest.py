"""Plant bad images of known kind in a complement manifest (a diagnostic).

Writes the records a run with ``target_count=FILL`` trains on, a share of
them replaced by bad images (see sau_mm/datasets/planted_noise.py for the
counts, the kinds and the seeding). Never report the result as synthetic
data. Example (30% planted, every class filled to 1,000 images in total):

  python tools/corrupt_manifest.py \\
      data/synthetic/cifar10jpeg_lt_if100_oracle/manifest.jsonl \\
      data/synthetic/cifar10jpeg_lt_if100_oracle_p30/manifest.jsonl \\
      --dataset-config configs/sau/resnet32_cifar10jpeg_lt.py \\
      --rate 0.3 --kinds off_class degraded --fill-to 1000 --seed 0
"""
import argparse
import sys

import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
from sau_mm.datasets.planted_noise import (KINDS, Degradation,
                                           plant_bad_images, report_path)
from sau_mm.generation.complement import real_training_set


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('manifest', help='the clean complement (e.g. the '
                        'oracle manifest of tools/manifest_from_folder.py)')
    parser.add_argument('out', help='the planted manifest to write (its '
                        'new images go to OUT_FOLDER/planted/)')
    parser.add_argument('--dataset-config', required=True,
                        help='the training config: its real long-tailed '
                        'set decides how many records each class needs')
    parser.add_argument('--rate', type=float, required=True,
                        help='share of each class\'s records to plant')
    parser.add_argument('--kinds', nargs='+', choices=KINDS,
                        default=['off_class', 'degraded'])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--fill-to', type=int,
                        help='fill every class to this many images, real + '
                        'synthetic (the dataset\'s target_count; default: '
                        'the largest real class)')
    parser.add_argument('--blur-sigma', type=float, default=2.0,
                        help='degraded: Gaussian blur std in pixels')
    parser.add_argument('--noise-std', type=float, default=20.0,
                        help='degraded: Gaussian noise std on 0..255')
    parser.add_argument('--jitter-px', type=int, default=2,
                        help='near_duplicate: largest shift in pixels')
    args = parser.parse_args()
    dataset, _, key = real_training_set(args.dataset_config)
    real_samples = [dataset.get_data_info(int(i))
                    for i in dataset.real_indices] \
        if 'near_duplicate' in args.kinds else None
    try:
        report = plant_bad_images(
            args.manifest, args.out, dataset.real_class_counts, args.rate,
            args.kinds, seed=args.seed, fill_to=args.fill_to,
            real_samples=real_samples,
            degradation=Degradation(args.blur_sigma, args.noise_std),
            jitter_px=args.jitter_px,
            classes=dataset.metainfo['classes'])
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f'corrupt_manifest: {e}')
    totals = report['totals']
    planted = ', '.join(f'{k} {n}' for k, n in totals['planted'].items())
    print(f'Wrote {totals["records"]} records to {args.out} (planted: '
          f'{planted}); report in {report_path(args.out)}.\n'
          f'Train on it with --cfg-options {key}.synthetic_manifest='
          f'{args.out} {key}.target_count={report["fill_to"]}')


if __name__ == '__main__':
    main()
