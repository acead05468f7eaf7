"""Training throughput, share of the bare compute, TFLOP/s and peak memory of
configs, side by side (sau_mm/engine/benchmark.py says what each figure is).

  python tools/benchmark.py configs/baselines/resnet32_cifar10jpeg_lt/ce.py \
      configs/baselines/resnet32_cifar10jpeg_lt/ce_device.py --iters 20 \
      --rounds 2 --cfg-options train_dataloader.num_workers=2
  python tools/benchmark.py --suite device_path \
      --sau-manifest data/synthetic/cifar10jpeg_lt_if100_oracle/manifest.jsonl

The second form runs CE classic, SAU classic and SAU widened on the CPU path
and the device path (and bf16). The same --cfg-options apply to every case.
--json FILE also writes the per-case medians.
"""
import argparse
import fnmatch
import json

import sau_mm  # noqa: F401

from sau_mm.engine.benchmark import Case, compare, device_path_suite


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='*')
    parser.add_argument('--suite', choices=['device_path'])
    parser.add_argument('--sau-manifest',
                        help='synthetic manifest for the SAU cases (--suite)')
    parser.add_argument('--data-root', help='CIFAR-10 (JPEG) folder (--suite)')
    parser.add_argument('--imbalance-factor', type=int,
                        help='IF of the training set (--suite)')
    parser.add_argument('--cases', nargs='+', metavar='PATTERN',
                        help='run only the suite cases matching these '
                        'shell patterns (e.g. "ce_classic/*")')
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value overrides for every case')
    parser.add_argument('--json', help='write the summary here')
    args = parser.parse_args()
    if bool(args.suite) == bool(args.configs):
        parser.error('give CONFIG... or --suite, not both or neither')
    if args.suite and not args.sau_manifest:
        parser.error('--suite device_path needs --sau-manifest')
    cases = (device_path_suite(args.sau_manifest, args.data_root,
                               args.imbalance_factor) if args.suite else
             [Case(c, c) for c in args.configs])
    if args.cases:
        cases = [c for c in cases
                 if any(fnmatch.fnmatch(c.name, p) for p in args.cases)]
        if not cases:
            parser.error(f'no case matches --cases {args.cases}')
    summary = compare(cases, args.iters, args.warmup, args.rounds,
                      args.cfg_options)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(summary, f, indent=1)


if __name__ == '__main__':
    main()
