"""One command from a long-tailed dataset to a finished comparison.

python tools/run_pipeline.py PIPELINE_CONFIG [--work-dir DIR] [--from STAGE]
    [--until STAGE] [--dry-run] [--cfg-options key=value ...]

Prints the plan (every stage's command, outputs and status), then runs each
stage that is not done in its own process through the existing tools;
rerunning skips finished stages and resumes an interrupted one. --from
STAGE reruns STAGE and every later stage from scratch (old outputs are moved
to WORK/replaced/); --until STAGE stops after it. See sau_mm.pipeline and
the README section "One command: the pipeline".
"""
import argparse
import signal
import sys

import sau_mm  # noqa: F401  (compat fixes + registration, before mmengine)
from mmengine.config import DictAction
from mmengine.logging import MMLogger

from sau_mm.pipeline import (PipelineConfigError, build_stages,
                             load_pipeline, run_pipeline)


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('config', help='pipeline config '
                        '(configs/pipelines/*.py)')
    parser.add_argument('--work-dir', help='where everything goes (default: '
                        "the config's work_dir, else "
                        'work_dirs/pipelines/<config name>)')
    parser.add_argument('--from', dest='start', metavar='STAGE',
                        help='rerun from this stage on, from scratch')
    parser.add_argument('--until', metavar='STAGE',
                        help='stop after this stage')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the plan and the exact commands, run '
                        'nothing')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override pipeline config settings, key=value '
                        '(e.g. stages.sample.steps=50)')
    return parser.parse_args()


def main():
    args = parse_args()
    # the stages log for themselves; keep mmengine's messages of loading
    # their configs here off the console
    MMLogger.get_instance('run_pipeline', log_level='WARNING')
    # SIGTERM like Ctrl-C: the running stage is stopped with the pipeline
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        pipeline = load_pipeline(args.config, args.cfg_options, args.work_dir)
        stages = build_stages(pipeline)
        return run_pipeline(pipeline, stages, args.start, args.until,
                            args.dry_run)
    except (PipelineConfigError, RuntimeError) as e:
        print(f'run_pipeline: {e}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('run_pipeline: interrupted. Run the same command to go on: '
              'finished stages are skipped, the interrupted one resumes.',
              file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
