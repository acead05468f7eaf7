"""The pipeline config, and every path between stages (derived here only).

A pipeline config (``configs/pipelines/*.py``, an MMEngine config) has

- ``stages``: name -> ``dict(type=..., <settings>)``, run in this order.
  A setting that names another stage (``generator='train_generator'``,
  ``synthetic='filter'``, ...) takes that stage's output; which settings
  do, and what each stage type takes, is :mod:`sau_mm.pipeline.stages`'s.
  A stage set to ``None`` (e.g. by a preset inheriting another) is left out.
- ``dataset``: fields written into every stage config's datasets, wherever a
  config keeps them (``train_dataloader.dataset`` or a wrapper's
  ``.dataset``): ``train=dict(...)`` into the training set (e.g.
  ``imbalance_factor``), ``test=dict(...)`` into the val/test sets;
  ``subset=dict(source=FOLDER, per_class=dict(train=N, test=M))`` adds a
  first stage, ``prepare_data``, that copies the first N / M images of every
  class of the image folder FOLDER, and points every dataset at the copy.
- ``num_workers``: data-loading workers of every dataloader (None: each
  config's own; 0 also turns ``persistent_workers`` off).
- ``work_dir``: where everything goes (``--work-dir`` wins; default
  ``work_dirs/pipelines/<config name>``).

Paths, WORK being the work dir: ``WORK/<stage>/`` is every stage's output
folder (a training run's ``--work-dir``, a sampler's ``--out-dir``, a
report's ``--out``), but a filter writes beside the images it filters and
the text-to-image stages share their plan stage's folder, as the tools do;
``WORK/logs/<stage>.log`` its output, every attempt appended;
``WORK/pipeline_state.json`` the fingerprints of started and finished
stages; ``WORK/results.md`` the final table; ``WORK/pipeline.py`` the
pipeline config as last run; ``WORK/replaced/`` the outputs of stages rerun
from scratch (``--from``), moved aside.
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from mmengine.config import Config

from sau_mm.datasets.wrappers import long_tail_dataset_cfg

KEYS = ('stages', 'dataset', 'num_workers', 'work_dir')
DATASET_KEYS = ('train', 'test', 'subset')
PREPARE_DATA = 'prepare_data'


class PipelineConfigError(ValueError):
    """A pipeline config that cannot run; the message names the file, the
    setting and what to do."""


@dataclass
class StageSpec:
    """One stage as the config gives it."""
    name: str
    type: str
    settings: dict


@dataclass
class Pipeline:
    """A loaded pipeline config: its stages in order and the shared
    settings, with the paths derived from the work dir."""
    name: str
    filename: str
    work_dir: str
    stages: List[StageSpec]
    train_fields: dict = field(default_factory=dict)
    test_fields: dict = field(default_factory=dict)
    subset: Optional[dict] = None
    num_workers: Optional[int] = None
    config: Optional[Config] = None

    # ---------------------------------------------------------------- paths
    def stage_dir(self, name: str) -> str:
        return osp.join(self.work_dir, name)

    def log_file(self, name: str) -> str:
        return osp.join(self.work_dir, 'logs', f'{name}.log')

    @property
    def state_file(self) -> str:
        return osp.join(self.work_dir, 'pipeline_state.json')

    @property
    def results_file(self) -> str:
        return osp.join(self.work_dir, 'results.md')

    @property
    def replaced_dir(self) -> str:
        return osp.join(self.work_dir, 'replaced')

    @property
    def data_root(self) -> Optional[str]:
        """The image folder every dataset reads when ``dataset.subset`` is
        set (the prepare_data stage's output), else None."""
        return self.stage_dir(PREPARE_DATA) if self.subset else None

    # ------------------------------------------------------ config options
    def dataset_options(self, cfg: Config) -> Dict[str, object]:
        """--cfg-options (dotted key -> value) that give a stage config this
        pipeline's data: ``dataset.train`` fields in its training set,
        ``dataset.test`` fields in its val/test sets, the subset's data
        root in all, ``num_workers`` in every dataloader it has."""
        train = dict(self.train_fields)
        test = dict(self.test_fields)
        if self.data_root:
            train['data_root'] = test['data_root'] = self.data_root
        options = {}
        for split, fields in (('train', train), ('val', test),
                              ('test', test)):
            loader = f'{split}_dataloader'
            if cfg.get(loader) is None:
                continue
            if fields:
                key = dataset_key(cfg, loader)
                options.update(flatten(fields, key))
            if self.num_workers is not None:
                options[f'{loader}.num_workers'] = self.num_workers
                if self.num_workers == 0:
                    options[f'{loader}.persistent_workers'] = False
        return options


def dataset_key(cfg: Config, loader: str = 'train_dataloader') -> str:
    """The dotted key of the LongTailSyntheticDataset of ``cfg[loader]``:
    ``<loader>.dataset``, or a wrapper's ``.dataset`` below it (e.g. SAU's
    MixPartnerDataset)."""
    key, ds = long_tail_dataset_cfg(cfg, loader)
    if ds is None:
        raise PipelineConfigError(
            f'{cfg.filename}: {loader}.dataset holds no '
            'LongTailSyntheticDataset, so the pipeline cannot set its data '
            '(dataset.train / dataset.test / dataset.subset).')
    return key


def flatten(values: dict, prefix: str) -> Dict[str, object]:
    """{'a': {'b': 1}} under 'p' -> {'p.a.b': 1} ('' : {'a.b': 1}); nested
    dicts become dotted keys (a --cfg-options value cannot be a dict)."""
    out = {}
    for k, v in values.items():
        key = f'{prefix}.{k}' if prefix else k
        if isinstance(v, dict):
            out.update(flatten(v, key))
        else:
            out[key] = v
    return out


def load_pipeline(filename: str, cfg_options: Optional[dict] = None,
                  work_dir: Optional[str] = None) -> Pipeline:
    """Read and check a pipeline config (module doc); ``cfg_options``
    override its keys, ``work_dir`` its work dir."""
    if not osp.isfile(filename):
        raise PipelineConfigError(f'Pipeline config {filename} does not '
                                  'exist.')
    cfg = Config.fromfile(filename)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    name = osp.splitext(osp.basename(filename))[0]

    def fail(what):
        raise PipelineConfigError(f'Pipeline config {filename}: {what}')

    unknown = [k for k in cfg.keys() if k not in KEYS
               and not k.startswith('_')]
    if unknown:
        fail(f'unknown setting(s) {unknown}; a pipeline config has '
             f'{list(KEYS)} (helper variables: start their names with _).')
    stages = cfg.get('stages')
    if not isinstance(stages, dict) or not stages:
        fail('`stages` must be a non-empty dict, name -> dict(type=..., '
             '...).')
    specs = []
    for stage, settings in stages.items():
        if settings is None:
            continue
        if not stage.replace('_', '').isalnum() or stage != stage.lower():
            fail(f'stage name {stage!r}: use lower-case letters, digits '
                 'and _.')
        if stage == PREPARE_DATA:
            fail(f'the stage name {PREPARE_DATA!r} is the one '
                 'dataset.subset adds; choose another.')
        if not isinstance(settings, dict) or 'type' not in settings:
            fail(f'stages.{stage} must be a dict with a `type`.')
        settings = settings.to_dict() if hasattr(settings, 'to_dict') \
            else dict(settings)
        specs.append(StageSpec(stage, settings.pop('type'), settings))
    dataset = cfg.get('dataset') or {}
    bad = [k for k in dataset if k not in DATASET_KEYS]
    if bad:
        fail(f'dataset.{bad[0]}: a dataset setting is one of '
             f'{list(DATASET_KEYS)}.')
    train = dict(dataset.get('train') or {})
    test = dict(dataset.get('test') or {})
    subset = dataset.get('subset')
    if subset:
        subset = dict(subset)
        if set(subset) != {'source', 'per_class'} or \
                not isinstance(subset['per_class'], dict):
            fail('dataset.subset must be dict(source=IMAGE_FOLDER, '
                 'per_class=dict(train=N, test=M)).')
        if 'data_root' in train or 'data_root' in test:
            fail('dataset.subset sets every data_root (the prepare_data '
                 'stage\'s copy); remove dataset.train/test.data_root.')
        specs.insert(0, StageSpec(PREPARE_DATA, 'prepare_data',
                                  dict(subset)))
    workers = cfg.get('num_workers')
    if workers is not None and (not isinstance(workers, int) or workers < 0):
        fail(f'num_workers must be None or an int >= 0, got {workers!r}.')
    work_dir = work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', 'pipelines', name)
    return Pipeline(name=name, filename=filename, work_dir=work_dir,
                    stages=specs, train_fields=train, test_fields=test,
                    subset=subset or None, num_workers=workers, config=cfg)
