"""Train a model from a config: ``python -m sau_mm.cli.train CONFIG
[options]`` (or ``python tools/train.py``)."""
import argparse
import sys

from mmengine.runner import Runner

from sau_mm.engine.checkpoint_files import CheckpointError, resolve_resume
from sau_mm.engine.runner_setup import (add_common_args, train_config,
                                        warn_fresh_start)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', nargs='?', const='auto',
        help='resume from this checkpoint, or (no value) from the latest '
        'checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='bfloat16 autocast (no loss scaling), GPU or CPU')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not evaluate during training')
    add_common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = train_config(args)
    if args.resume is not None:
        # a bad file: an error naming the newest complete older checkpoint
        # (--resume FILE), or a fall back to it with a warning (--resume)
        try:
            cfg.load_from = resolve_resume(
                cfg.work_dir, None if args.resume == 'auto' else args.resume)
        except CheckpointError as e:
            sys.exit(f'--resume: {e}')
        cfg.resume = True
    else:
        warn_fresh_start(cfg.work_dir)
    Runner.from_cfg(cfg).train()


if __name__ == '__main__':
    main()
