"""Sample the DiffuLT complement of a long-tailed training set.

python -m sau_mm.cli.diffult_sample CONFIG CHECKPOINT --out-dir D
    [--target-count N | --per-class N] [--oversample 1.0] [--guidance 0.8]
    [--scheduler ddim|ddpm] [--steps 100] [--batch-size 256] [--seed 0]
    [--device cuda] [--cfg-options k=v ...]

Class c gets ceil(oversample * (target - real_c)) images (target: the largest
real class, or --target-count), or with --per-class N, ceil(oversample * N)
images whatever its real count. --cfg-options are the generator config's,
given as when it was trained (e.g. image_folder.data_root=...), so the plan
follows the same real data: a class count or image size that is not the
checkpoint's is an error naming the setting (exit status 1, before
sampling), as is a plan of 0 images (no manifest). Rerunning resumes.
Writes D/images/<c>/<i>.png, D/manifest.jsonl and D/sampling.json (see
sau_mm.generation.diffult.sampling).
Same --batch-size: byte-identical images whatever the batch composition; a
different --batch-size can change a few pixel values by 1.
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction

from sau_mm.engine.image_folder_settings import apply_image_folder_settings
from sau_mm.generation.complement import complement_counts, real_training_set
from sau_mm.generation.diffult.sampling import (GeneratorMismatch,
                                                load_generator,
                                                sample_complement)


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        epilog='Determinism: same --batch-size: byte-identical images '
        'whatever the batch composition; a different --batch-size can '
        'change a few pixel values by 1.')
    parser.add_argument('config', help='the generator training config')
    parser.add_argument('checkpoint', help='its checkpoint (EMA weights)')
    parser.add_argument('--out-dir', required=True)
    plan = parser.add_mutually_exclusive_group()
    plan.add_argument('--target-count', type=int,
                      help='fill each class to this many images '
                      '(default: the largest real class)')
    plan.add_argument('--per-class', type=int, metavar='N',
                      help='N images for every class, whatever its real '
                      'count')
    parser.add_argument('--oversample', type=float, default=1.0,
                        help='sample this many times the complement, to '
                        'leave room for filtering')
    parser.add_argument('--guidance', type=float, default=0.8,
                        help='w in eps = (1 + w) eps_cond - w eps_uncond')
    parser.add_argument('--scheduler', choices=['ddim', 'ddpm'],
                        default='ddim')
    parser.add_argument('--steps', type=int, default=100)
    parser.add_argument('--batch-size', type=int, default=256,
                        help='UNet rows per batch (see Determinism below)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--amp', action='store_true',
                        help='bfloat16 autocast (GPU; recorded in the '
                        'sampling settings)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the generator config, key=value, as when '
        'it was trained (e.g. image_folder.data_root=data/my_images)')
    args = parser.parse_args()
    if args.per_class is not None and args.per_class < 1:
        parser.error(f'--per-class must be >= 1, got {args.per_class}.')
    return args


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    apply_image_folder_settings(cfg, args.cfg_options)
    try:  # class count and image size checked against the checkpoint
        model, cfg = load_generator(cfg, args.checkpoint, args.device)
    except GeneratorMismatch as e:
        sys.exit(str(e))
    real, _, _ = real_training_set(cfg)
    real_counts = real.real_class_counts
    if model.num_classes != len(real_counts):
        sys.exit(f'Class count mismatch: the generator has '
                 f'{model.num_classes} classes, its config\'s training data '
                 f'{len(real_counts)} ({real.data_root}). Give the '
                 '--cfg-options of its training run.')
    if args.per_class is not None:
        # every class "has 0 images" and is filled to N
        plan_counts, target = [0] * len(real_counts), args.per_class
    else:
        plan_counts, target = real_counts, args.target_count
    target_used, _, planned = complement_counts(plan_counts, target,
                                                args.oversample)
    if sum(planned) == 0:
        sys.exit(
            f'Nothing to sample: the plan has 0 images. Every class already '
            f'has at least {target_used} real images ('
            + ('--target-count' if target else 'the largest real class')
            + f'; real counts {min(real_counts)}..{max(real_counts)} in '
            f'{real.data_root}). Pass --target-count above '
            f'{max(real_counts)} to fill every class up to it, or '
            '--per-class N for N images of every class. No manifest written.')
    print(f'DiffuLT plan: {sum(planned)} images for {len(planned)} classes '
          f'({min(planned)}..{max(planned)} per class'
          + (f', {args.per_class} each' if args.per_class else
             f', filling to {target_used}') + ').', flush=True)
    sample_complement(
        model, plan_counts, args.out_dir, target, args.oversample,
        args.guidance, args.scheduler, args.steps, args.batch_size,
        args.seed,
        settings=dict(config=osp.abspath(args.config),
                      cfg_options=args.cfg_options or {},
                      checkpoint=osp.abspath(args.checkpoint),
                      per_class=args.per_class,
                      classes=list(real.metainfo['classes']),
                      real_counts=real_counts),
        amp=args.amp)


if __name__ == '__main__':
    main()
