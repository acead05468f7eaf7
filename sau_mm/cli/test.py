"""Evaluate a checkpoint: ``python -m sau_mm.cli.test CONFIG CHECKPOINT
[options]`` (or ``python tools/test.py``)."""
import argparse

from mmengine.runner import Runner

from sau_mm.engine.runner_setup import add_common_args, load_config


def parse_args():
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump predictions to this .pkl file')
    add_common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.out:
        cfg.test_evaluator = [cfg.test_evaluator] if isinstance(
            cfg.test_evaluator, dict) else list(cfg.test_evaluator)
        cfg.test_evaluator.append(dict(type='DumpResults', out_file_path=args.out))
    Runner.from_cfg(cfg).test()


if __name__ == '__main__':
    main()
