"""One command from a long-tailed dataset to a finished comparison:
``tools/run_pipeline.py PIPELINE_CONFIG``. The config and the paths between
stages: :mod:`.config`; the stage types (command, outputs, verification):
:mod:`.stages`; fingerprints kept between runs: :mod:`.state`; progress
lines: :mod:`.progress`; the plan, skip / resume / changed-config logic and
the run: :mod:`.runner`."""
from .config import Pipeline, PipelineConfigError, load_pipeline
from .runner import EXIT_CHANGED, plan_stages, run_pipeline
from .stages import STAGE_TYPES, build_stages

__all__ = ['Pipeline', 'PipelineConfigError', 'load_pipeline',
           'EXIT_CHANGED', 'plan_stages', 'run_pipeline', 'STAGE_TYPES',
           'build_stages']
