"""Images/s of SAU's batched views (sau_mm.models.utils.batch_views) and of
the CPU PIL views, one batch, in one run:

  PYTHONPATH=. python tools/benchmark_batch_views.py --batch 512 --threads 1

The PIL figure is one process image by image (a loader worker's share);
--device cuda times the batched views on the GPU (synchronised). Printed,
not asserted.
"""
import argparse

import sau_mm  # noqa: F401
import torch

from sau_mm.models.utils.batch_views.benchmark import benchmark_views


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=512)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch intra-op threads for the batched views')
    parser.add_argument('--no-pil', action='store_true')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    figures = benchmark_views(args.batch, args.repeats, args.device,
                              cpu_path=not args.no_pil)
    print(f'batch {args.batch}, batched views on {args.device} '
          f'({args.threads} thread(s)); PIL path: 1 process')
    for key, f in figures.items():
        line = f'{key}: batched {f["batched"]:9.0f} img/s'
        if 'pil' in f:
            line += (f'   PIL {f["pil"]:7.0f} img/s   '
                     f'ratio {f["batched"] / f["pil"]:5.2f}x')
        print(line)


if __name__ == '__main__':
    main()
