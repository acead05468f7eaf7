"""Training throughput (images/s) and peak memory of configs, side by side.

  python tools/benchmark.py configs/baselines/resnet32_cifar10jpeg_lt/ce.py \
      configs/baselines/resnet32w_cifar10lt/ce.py --iters 20 --rounds 2 \
      --cfg-options train_dataloader.num_workers=2

Prints one line per config with the ratio to the first config. The same
--cfg-options apply to every config.
"""
import argparse

import sau_mm  # noqa: F401

from sau_mm.engine.benchmark import compare


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value overrides for every config')
    args = parser.parse_args()
    compare(args.configs, args.iters, args.warmup, args.rounds,
            args.cfg_options)


if __name__ == '__main__':
    main()
