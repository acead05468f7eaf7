"""Print DiffuLT generator throughput: training steps/s and DDIM images/s.

python tools/benchmark_diffult.py [CONFIG ...] [--batch-size 16]
    [--train-iters 5] [--sample-images 8] [--sample-steps 10] [--device cpu]

Default configs: the reference DDPM (configs/diffult/ddpm_cifar10jpeg_lt.py)
and the small preset. Images/s of a full run at S DDIM steps: the printed
value * sample_steps / S.
"""
import argparse

import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
import torch

from sau_mm.generation.diffult.benchmark import benchmark

DEFAULT_CONFIGS = ['configs/diffult/ddpm_cifar10jpeg_lt.py',
                   'configs/diffult/ddpm_small_cifar10jpeg_lt.py']


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='*', default=DEFAULT_CONFIGS)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--train-iters', type=int, default=5)
    parser.add_argument('--sample-images', type=int, default=8)
    parser.add_argument('--sample-steps', type=int, default=10)
    parser.add_argument('--guidance', type=float, default=0.8)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    return parser.parse_args()


def main():
    args = parse_args()
    for config in args.configs:
        r = benchmark(config, args.batch_size, args.train_iters,
                      args.sample_images, args.sample_steps, args.guidance,
                      args.device)
        print(f'{r["config"]}: {r["params_m"]:.2f}M params, {r["device"]} '
              f'({r["threads"]} threads) | train batch {r["batch_size"]}: '
              f'{r["train_steps_per_s"]:.3f} steps/s '
              f'({r["train_images_per_s"]:.1f} img/s) | DDIM '
              f'{r["sample_steps"]} steps, guidance {r["guidance"]}: '
              f'{r["sample_images_per_s"]:.3f} img/s', flush=True)


if __name__ == '__main__':
    main()
