"""Sample the DiffuLT complement of a long-tailed training set.

python tools/diffult_sample.py CONFIG CHECKPOINT --out-dir D [--target-count N]
    [--oversample 1.0] [--guidance 0.8] [--scheduler ddim|ddpm] [--steps 100]
    [--batch-size 256] [--seed 0] [--device cuda]

Class c gets ceil(oversample * (target - real_c)) images (target: the largest
real class); rerunning resumes. Writes D/images/<c>/<i>.png, D/manifest.jsonl
and D/sampling.json (see sau_mm.generation.diffult.sampling).
"""
import argparse
import os.path as osp

import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
import torch

from sau_mm.generation.complement import real_training_set
from sau_mm.generation.diffult.sampling import (load_generator,
                                                sample_complement)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the generator training config')
    parser.add_argument('checkpoint', help='its checkpoint (EMA weights)')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--target-count', type=int,
                        help='fill each class to this many images '
                        '(default: the largest real class)')
    parser.add_argument('--oversample', type=float, default=1.0,
                        help='sample this many times the complement, to '
                        'leave room for filtering')
    parser.add_argument('--guidance', type=float, default=0.8,
                        help='w in eps = (1 + w) eps_cond - w eps_uncond')
    parser.add_argument('--scheduler', choices=['ddim', 'ddpm'],
                        default='ddim')
    parser.add_argument('--steps', type=int, default=100)
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    return parser.parse_args()


def main():
    args = parse_args()
    model, cfg = load_generator(args.config, args.checkpoint, args.device)
    real, _, _ = real_training_set(cfg)
    sample_complement(
        model, real.real_class_counts, args.out_dir, args.target_count,
        args.oversample, args.guidance, args.scheduler, args.steps,
        args.batch_size, args.seed,
        settings=dict(config=osp.abspath(args.config),
                      checkpoint=osp.abspath(args.checkpoint),
                      classes=list(real.metainfo['classes']),
                      real_counts=real.real_class_counts))


if __name__ == '__main__':
    main()
