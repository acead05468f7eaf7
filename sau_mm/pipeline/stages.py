"""Stage types: each stage's command (a tool of :mod:`sau_mm.cli`, run as
``python -m sau_mm.cli.<tool>`` in its own process, so an installed package
needs no repository), its outputs, when they verify, and what identifies
them. Types, their tool, the settings that name other stages, and their
outputs (in WORK/<stage>/):

- ``prepare_data``: subset_image_folder -> the image-folder copy;
- ``train``: train (``synthetic``, ``load_from`` name stages) ->
  ``epoch_N.pth`` / ``iter_N.pth``;
- ``diffult_sample``: diffult_sample (``generator``) -> ``manifest.jsonl``
  and the images;
- ``diffult_filter``: diffult_filter (``samples``, ``classifier``) ->
  ``manifest_filtered.jsonl`` and its report, beside the samples;
- ``t2i_plan`` / ``t2i_prompts`` / ``t2i_generate`` / ``t2i_filter``:
  generate_synthetic (``plan`` / ``prompts`` / ``images``), all in the plan
  stage's folder;
- ``compare_runs``: compare_runs (``runs``) -> ``runs.md``, ``.csv``,
  ``.json``;
- ``synthetic_report``: synthetic_report (``manifest``, ``encoder``,
  ``noise_flags``) -> ``index.html``, ``synthetic_report.json``, ``.md``.

A stage is done when :meth:`Stage.verify` finds its outputs complete (a
training run's final checkpoint loads and is of its last epoch/iteration, a
manifest reads and lists every planned image, present on disk), never
because a marker says so. A training run whose dumped config differs from
the one the pipeline would train is a :meth:`Stage.conflict`.
"""
import argparse
import hashlib
import io
import json
import os.path as osp
from argparse import Namespace
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config, DictAction

from sau_mm.datasets.folder_subset import planned_subset, subset_problem
from sau_mm.datasets.manifest import read_manifest, resolve_path
from sau_mm.generation import diffult_layout as diffult
from sau_mm.generation.complement import IMAGES_DIR
from sau_mm.generation.text2image import layout as t2i

from .config import (Pipeline, PipelineConfigError, StageSpec, dataset_key,
                     flatten)

# keys a run sets itself (sau_mm.cli.train --resume), not part of its config
RUN_KEYS = ('load_from', 'resume')


def tool(name: str) -> List[str]:
    """``python -m sau_mm.cli.<name>``: the start of a stage's command."""
    return ['python', '-m', f'sau_mm.cli.{name}']


def read_back(key: str, text: str):
    """What a tool's ``--cfg-options key=text`` sets ``key`` to (MMEngine's
    DictAction, run through argparse as the tools run it)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options',
                              f'{key}={text}']).cfg_options[key]


def format_value(key: str, value) -> str:
    """``value`` as the tools' ``--cfg-options key=value`` reads it back
    (:func:`read_back`); a value that would not survive the trip is an
    error."""
    def fmt(v):
        if isinstance(v, (list, tuple)):
            inner = ','.join(fmt(x) for x in v)
            return f'({inner})' if isinstance(v, tuple) else f'[{inner}]'
        return repr(v) if isinstance(v, float) else str(v)
    text = fmt(value)
    back = read_back(key, text)
    if back != value or type(back) is not type(value):
        raise PipelineConfigError(
            f'--cfg-options {key}={text} would read back as {back!r}, not '
            f'{value!r} (a string with spaces, commas or brackets, or one '
            'that reads as a number?). Set it in a config file instead.')
    return text


def cfg_option_args(options: Dict[str, object]) -> List[str]:
    """``['--cfg-options', 'k=v', ...]``, or [] when there are none."""
    if not options:
        return []
    return ['--cfg-options'] + [f'{k}={format_value(k, v)}'
                                for k, v in options.items()]


def flag_args(settings: dict, names: Sequence[str]) -> List[str]:
    """``--name value`` for each set (not None) setting of ``names``, in that
    order; True -> the bare flag; a list -> the flag repeated."""
    args = []
    for name in names:
        value = settings.get(name)
        flag = '--' + name.replace('_', '-')
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            for v in value:
                args += [flag, str(v)]
        else:
            args += [flag, str(value)]
    return args


def file_digest(*paths: str) -> str:
    """sha256 of the files' bytes, in order."""
    h = hashlib.sha256()
    for path in paths:
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(1 << 22), b''):
                h.update(block)
    return h.hexdigest()


def manifest_problem(path: str, expected: Optional[int] = None
                     ) -> Optional[str]:
    """None if the manifest reads, lists ``expected`` images (when given)
    and every image file exists; else what is wrong."""
    try:
        records = read_manifest(path)
    except (OSError, ValueError) as e:
        return str(e)
    if expected is not None and len(records) != expected:
        return f'{path} lists {len(records)} images, {expected} planned'
    missing = [r.path for r in records
               if not osp.isfile(resolve_path(path, r))]
    if missing:
        return (f'{path}: {len(missing)} image file(s) missing, e.g. '
                f'{missing[0]}')
    return None


def read_json(path: str):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


class Stage:
    """One stage of a pipeline. Subclasses set ``type_name``, ``refs``
    (setting -> stage types it may name), ``options`` (other settings ->
    default) and ``required``, and implement the methods below."""
    type_name = ''
    refs: Dict[str, Tuple[str, ...]] = {}
    options: Dict[str, object] = {}
    required: Tuple[str, ...] = ()
    progress = 'bar'  # how run.py reads progress from its output

    def __init__(self, spec: StageSpec, pipeline: Pipeline, index: int,
                 earlier: Dict[str, 'Stage']):
        self.name, self.pipeline, self.index = spec.name, pipeline, index
        where = f'Pipeline config {pipeline.filename}: stages.{self.name}'
        unknown = [k for k in spec.settings
                   if k not in self.refs and k not in self.options]
        if unknown:
            raise PipelineConfigError(
                f'{where}: unknown setting(s) {unknown} for a '
                f'{self.type_name!r} stage; it takes '
                f'{sorted(list(self.refs) + list(self.options))}.')
        missing = [k for k in self.required if spec.settings.get(k) is None]
        if missing:
            raise PipelineConfigError(f'{where}: {missing} must be set.')
        self.settings = dict(self.options, **spec.settings)
        self.inputs: Dict[str, object] = {}
        for key, types in self.refs.items():
            value = self.settings.get(key)
            if value is None:
                continue
            names = value if isinstance(value, (list, tuple)) else [value]
            stages = []
            for ref in names:
                stage = earlier.get(ref)
                if stage is None or stage.type_name not in types:
                    raise PipelineConfigError(
                        f'{where}: {key}={ref!r} must name an earlier stage '
                        f'of type {" or ".join(types)}; earlier stages: '
                        f'{ {n: s.type_name for n, s in earlier.items()} }.')
                stages.append(stage)
            self.inputs[key] = stages if isinstance(value, (list, tuple)) \
                else stages[0]

    # ---------------------------------------------------------------- paths
    @property
    def dir(self) -> str:
        return self.pipeline.stage_dir(self.name)

    def owned_paths(self) -> List[str]:
        """What a rerun from scratch (``--from``) moves aside."""
        return [self.dir]

    def upstream(self) -> List['Stage']:
        out = []
        for value in self.inputs.values():
            out += value if isinstance(value, list) else [value]
        return out

    # ------------------------------------------------------------ interface
    def command(self, resume: bool = False) -> List[str]:
        """argv, ``python -m sau_mm.cli.<tool>`` first (:func:`tool`; the
        runner uses its own interpreter)."""
        raise NotImplementedError

    def outputs(self) -> List[str]:
        """The files the plan lists as this stage's result."""
        raise NotImplementedError

    def verify(self) -> Optional[str]:
        """None if the outputs exist and verify, else what is missing."""
        raise NotImplementedError

    def digest(self) -> str:
        """sha256 of the verified key output (downstream fingerprints
        include it)."""
        return file_digest(self.outputs()[0])

    def config_text(self) -> str:
        """The configs the stage reads, as text (for its fingerprint)."""
        return ''

    def conflict(self) -> Optional[str]:
        """What in the outputs was made with other settings, or None."""
        return None

    def started(self) -> bool:
        """Whether anything of this stage is on disk."""
        return any(osp.exists(p) for p in self.owned_paths())

    def resumable(self) -> bool:
        """Whether a rerun continues rather than restarts (a training run
        needs a checkpoint; the generators resume by themselves)."""
        return self.started()


class PrepareData(Stage):
    """The image-folder copy of ``dataset.subset`` every dataset reads."""
    type_name = 'prepare_data'
    options = dict(source=None, per_class=None)
    required = ('source', 'per_class')

    def command(self, resume=False):
        counts = [f'{k}={v}' for k, v in self.settings['per_class'].items()]
        return (tool('subset_image_folder')
                + [self.settings['source'], self.dir, '--per-class'] + counts)

    def outputs(self):
        return [self.dir]

    def plan(self):
        return planned_subset(self.settings['source'],
                              dict(self.settings['per_class']))

    def verify(self):
        if not osp.isdir(self.dir):
            return f'{self.dir} does not exist'
        return subset_problem(self.dir, self.plan())

    def digest(self):
        return hashlib.sha256(json.dumps(self.plan(), sort_keys=True)
                              .encode()).hexdigest()

    def owned_paths(self):
        return [self.dir, f'{self.dir}.partial']


class Train(Stage):
    """``train CONFIG --work-dir WORK/<stage> [--amp] [--resume]
    --cfg-options ...``: the pipeline's data settings, ``dataset`` fields of
    this run's training set, ``synthetic`` (a manifest stage: the training
    set's ``synthetic_manifest``), ``load_from`` (a training stage: its final
    checkpoint), then ``cfg_options`` as given."""
    type_name = 'train'
    refs = dict(synthetic=('diffult_filter', 'diffult_sample', 't2i_filter',
                           't2i_generate'),
                load_from=('train',))
    options = dict(config=None, cfg_options={}, dataset={}, amp=False)
    required = ('config',)
    progress = 'train'

    def __init__(self, *args):
        super().__init__(*args)
        path = self.settings['config']
        if not osp.isfile(path):
            raise PipelineConfigError(
                f'Pipeline config {self.pipeline.filename}: stages.'
                f'{self.name}.config {path!r} does not exist (paths are '
                'relative to the current folder: run from the repository '
                'root).')
        self.config_path = path
        self.cfg_options = self._cfg_options()
        self.cfg = Config.fromfile(path)
        self.cfg.merge_from_dict(self.cfg_options)
        loop = self.cfg.train_cfg
        if 'max_iters' in loop:
            self.unit, self.total = 'iter', int(loop.max_iters)
        else:
            self.unit, self.total = 'epoch', int(loop.max_epochs)

    def _cfg_options(self) -> Dict[str, object]:
        cfg = Config.fromfile(self.settings['config'])
        options = self.pipeline.dataset_options(cfg)
        key = None
        if self.settings['dataset'] or 'synthetic' in self.inputs:
            key = dataset_key(cfg)
        options.update(flatten(self.settings['dataset'], key or ''))
        if 'synthetic' in self.inputs:
            options[f'{key}.synthetic_manifest'] = \
                self.inputs['synthetic'].manifest
        if 'load_from' in self.inputs:
            options['load_from'] = self.inputs['load_from'].checkpoint
        options.update(flatten(self.settings['cfg_options'], ''))
        return options

    @property
    def checkpoint(self) -> str:
        """The final checkpoint: ``iter_<max_iters>.pth`` or
        ``epoch_<max_epochs>.pth``."""
        return osp.join(self.dir, f'{self.unit}_{self.total}.pth')

    @property
    def dumped_config(self) -> str:
        """Where MMEngine's runner dumps the config it trains."""
        return osp.join(self.dir, osp.basename(self.config_path))

    def command(self, resume=False):
        return (tool('train') + [self.config_path, '--work-dir', self.dir]
                + (['--amp'] if self.settings['amp'] else [])
                + (['--resume'] if resume else [])
                + cfg_option_args(self.cfg_options))

    def outputs(self):
        return [self.checkpoint]

    def config_text(self):
        return json.dumps(self.cfg.to_dict(), sort_keys=True, default=str)

    def verify(self):
        self._digest = None
        if not osp.isfile(self.checkpoint):
            return f'{self.checkpoint} does not exist'
        try:
            with open(self.checkpoint, 'rb') as f:
                data = f.read()
            self._digest = hashlib.sha256(data).hexdigest()
            ckpt = torch.load(io.BytesIO(data), map_location='cpu',
                              weights_only=False)
        except Exception as e:  # noqa: BLE001 (any failure: not loadable)
            return f'{self.checkpoint} does not load ({type(e).__name__}: ' \
                f'{str(e)[:200]})'
        meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
        done = meta.get(self.unit)
        if 'state_dict' not in ckpt or done != self.total:
            return (f'{self.checkpoint} is not the end of training '
                    f'({self.unit} {done} in its meta, {self.total} planned)')
        return None

    def digest(self):
        # verify() read the file just now
        return getattr(self, '_digest', None) or file_digest(self.checkpoint)

    def effective_config(self) -> Config:
        """The config sau_mm.cli.train trains for this command (before
        --resume), as text round trip like the dumped one."""
        from sau_mm.engine.runner_setup import train_config
        parsed = {k: read_back(k, format_value(k, v))
                  for k, v in self.cfg_options.items()}
        cfg = train_config(Namespace(
            config=self.config_path, cfg_options=parsed,
            work_dir=self.dir, launcher='none', local_rank=0,
            amp=self.settings['amp'], no_validate=False))
        return Config.fromstring(cfg.pretty_text, '.py')

    def conflict(self):
        if not osp.isfile(self.dumped_config):
            return None
        old = Config.fromfile(self.dumped_config).to_dict()
        new = self.effective_config().to_dict()
        diff = dict_diff({k: v for k, v in old.items() if k not in RUN_KEYS},
                         {k: v for k, v in new.items() if k not in RUN_KEYS})
        if not diff:
            return None
        shown = '; '.join(f'{k}: {a!r} -> {b!r}' for k, a, b in diff[:3])
        return (f'{self.dumped_config} (the config its run trained) differs '
                f'from the one this pipeline trains: {shown}'
                + (f' (and {len(diff) - 3} more)' if len(diff) > 3 else ''))

    def resumable(self):
        return osp.isfile(osp.join(self.dir, 'last_checkpoint'))


def dict_diff(a, b, prefix='') -> List[Tuple[str, object, object]]:
    """(dotted key, a's value, b's value) where two nested dicts differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            out += dict_diff(a.get(k, '<unset>'), b.get(k, '<unset>'),
                             f'{prefix}{k}.')
        return out
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and \
            len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += dict_diff(x, y, f'{prefix}{i}.')
        return out
    return [] if a == b else [(prefix.rstrip('.'), a, b)]


class DiffuLTSample(Stage):
    """``diffult_sample`` with the generator's config, final checkpoint and
    --cfg-options (as it was trained)."""
    type_name = 'diffult_sample'
    refs = dict(generator=('train',))
    options = dict(oversample=None, target_count=None, per_class=None,
                   guidance=None, scheduler=None, steps=None,
                   batch_size=None, seed=None, amp=False, device=None,
                   args=[])
    required = ('generator',)
    FLAGS = ('target_count', 'per_class', 'oversample', 'guidance',
             'scheduler', 'steps', 'batch_size', 'seed', 'amp', 'device')

    @property
    def manifest(self) -> str:
        return osp.join(self.dir, diffult.MANIFEST)

    def command(self, resume=False):
        gen = self.inputs['generator']
        return (tool('diffult_sample')
                + [gen.config_path, gen.checkpoint, '--out-dir', self.dir]
                + flag_args(self.settings, self.FLAGS)
                + list(self.settings['args'])
                + cfg_option_args(gen.cfg_options))

    def outputs(self):
        return [self.manifest]

    def verify(self):
        settings = osp.join(self.dir, diffult.SAMPLING)
        if not osp.isfile(settings) or not osp.isfile(self.manifest):
            return f'{self.manifest} does not exist'
        return manifest_problem(self.manifest,
                                sum(read_json(settings)['planned']))


class DiffuLTFilter(Stage):
    """``diffult_filter`` on a sample stage's manifest with a
    training stage's classifier (its config, final checkpoint and
    --cfg-options); writes manifest_filtered.jsonl and its report beside the
    samples' manifest (where the synthetic report finds both)."""
    type_name = 'diffult_filter'
    refs = dict(samples=('diffult_sample',), classifier=('train',))
    options = dict(rule=None, quantile=None, threshold=None,
                   target_count=None, batch_size=None, device=None, args=[])
    required = ('samples', 'classifier')
    FLAGS = ('rule', 'quantile', 'threshold', 'target_count', 'batch_size',
             'num_workers', 'device')

    @property
    def dir(self):
        return self.inputs['samples'].dir

    @property
    def manifest(self) -> str:
        return osp.join(self.dir, diffult.FILTERED)

    @property
    def report(self) -> str:
        return diffult.report_paths(self.manifest)[0]

    def owned_paths(self):
        return [self.manifest, *diffult.report_paths(self.manifest)]

    def command(self, resume=False):
        cls = self.inputs['classifier']
        flags = dict(self.settings, num_workers=self.pipeline.num_workers)
        return (tool('diffult_filter')
                + [self.inputs['samples'].manifest, cls.config_path,
                   cls.checkpoint]
                + flag_args(flags, self.FLAGS)
                + list(self.settings['args'])
                + cfg_option_args(cls.cfg_options))

    def outputs(self):
        return [self.manifest, self.report]

    def verify(self):
        if not osp.isfile(self.report):
            return f'{self.report} does not exist'
        report = read_json(self.report)
        sampled = len(read_manifest(self.inputs['samples'].manifest))
        if report.get('sampled') != sampled:
            return (f'{self.report} is of {report.get("sampled")} samples, '
                    f'the sample stage made {sampled}')
        return manifest_problem(self.manifest, report.get('kept'))


class T2IStage(Stage):
    """A stage of generate_synthetic; all share the plan stage's folder."""
    chain = ''  # the setting naming the previous text-to-image stage
    FLAGS: Tuple[str, ...] = ()
    own: Tuple[str, ...] = ()  # the files of the folder this stage writes

    @property
    def dir(self):
        return self.inputs[self.chain].dir

    def owned_paths(self):
        return [osp.join(self.dir, f) for f in self.own]

    def command(self, resume=False):
        return (tool('generate_synthetic')
                + [self.stage_name, '--out-dir', self.dir]
                + flag_args(self.settings, self.FLAGS)
                + list(self.settings['args']))

    def plan(self) -> dict:
        return read_json(osp.join(self.dir, t2i.PLAN))


class T2IPlan(T2IStage):
    """``generate_synthetic.py plan CONFIG`` (a config whose training set is
    the real long-tailed data, with the pipeline's data settings)."""
    type_name, stage_name = 't2i_plan', 'plan'
    options = dict(config=None, cfg_options={}, target_count=None,
                   oversample=None, resolution=None, args=[])
    required = ('config',)
    FLAGS = ('target_count', 'oversample', 'resolution')
    own = (t2i.PLAN,)

    @property
    def dir(self):
        return self.pipeline.stage_dir(self.name)

    def owned_paths(self):
        return [self.dir]

    def cfg_options(self):
        cfg = Config.fromfile(self.settings['config'])
        return dict(self.pipeline.dataset_options(cfg),
                    **flatten(self.settings['cfg_options'], ''))

    def command(self, resume=False):
        cmd = super().command(resume)
        return (cmd[:4] + [self.settings['config']] + cmd[4:]
                + cfg_option_args(self.cfg_options()))

    def outputs(self):
        return [osp.join(self.dir, t2i.PLAN)]

    def config_text(self):
        cfg = Config.fromfile(self.settings['config'])
        cfg.merge_from_dict(self.cfg_options())
        return json.dumps(cfg.to_dict(), sort_keys=True, default=str)

    def verify(self):
        path = self.outputs()[0]
        if not osp.isfile(path):
            return f'{path} does not exist'
        return None if 'total_needed' in read_json(path) else \
            f'{path} is not a plan'


class T2IPrompts(T2IStage):
    """``generate_synthetic.py prompts`` (basic, or ``mode='llm'`` with
    ``base_url`` and ``model``; the key is read from ``api_key_env``)."""
    type_name, stage_name, chain = 't2i_prompts', 'prompts', 'plan'
    refs = dict(plan=('t2i_plan',))
    options = dict(mode=None, template=None, base_url=None, model=None,
                   api_key_env=None, temperature=None, workers=None, args=[])
    required = ('plan',)
    FLAGS = ('mode', 'template', 'base_url', 'model', 'api_key_env',
             'temperature', 'workers')
    own = (t2i.PROMPTS,)

    def outputs(self):
        return [osp.join(self.dir, t2i.PROMPTS)]

    def verify(self):
        path = self.outputs()[0]
        if not osp.isfile(path):
            return f'{path} does not exist'
        plan, doc = self.plan(), read_json(path)
        if list(doc.get('classes', [])) != list(plan['classes']) or any(
                len(p) < n for p, n in zip(doc['prompts'],
                                           plan['needed_counts'])):
            return f'{path} does not cover the plan'
        return None


class T2IGenerate(T2IStage):
    """``generate_synthetic.py generate`` with a local diffusers pipeline
    folder (``pipeline_dir``)."""
    type_name, stage_name, chain = 't2i_generate', 'generate', 'prompts'
    refs = dict(prompts=('t2i_prompts',))
    options = dict(pipeline_dir=None, pipeline_class=None, steps=None,
                   guidance=None, batch_size=None, seed=None, height=None,
                   width=None, dtype=None, device=None, args=[])
    required = ('prompts', 'pipeline_dir')
    FLAGS = ('pipeline_dir', 'pipeline_class', 'steps', 'guidance',
             'batch_size', 'seed', 'height', 'width', 'dtype', 'device')
    own = (IMAGES_DIR, t2i.GENERATION, t2i.GENERATED, t2i.MANIFEST)

    @property
    def manifest(self) -> str:
        """Every generated image (the filter rewrites manifest.jsonl)."""
        return osp.join(self.dir, t2i.GENERATED)

    def outputs(self):
        return [self.manifest]

    def verify(self):
        if not osp.isfile(self.manifest):
            return f'{self.manifest} does not exist'
        return manifest_problem(self.manifest, self.plan()['total_needed'])


class T2IFilter(T2IStage):
    """``generate_synthetic.py filter``: CLIP scores with a local checkpoint
    (``clip_model``, ``clip_checkpoint``), kept images in manifest.jsonl."""
    type_name, stage_name, chain = 't2i_filter', 'filter', 'images'
    refs = dict(images=('t2i_generate',))
    options = dict(clip_model=None, clip_checkpoint=None, clip_config=None,
                   threshold=None, keep_fraction=None, text_source=None,
                   batch_size=None, device=None, args=[])
    required = ('images', 'clip_model')
    FLAGS = ('clip_model', 'clip_checkpoint', 'clip_config', 'threshold',
             'keep_fraction', 'text_source', 'batch_size', 'workers',
             'device')
    own = (t2i.SCORE_CACHE_DIR, t2i.SCORED, t2i.FILTER_REPORT)

    @property
    def manifest(self) -> str:
        return osp.join(self.dir, t2i.MANIFEST)

    def command(self, resume=False):
        flags = dict(self.settings, workers=self.pipeline.num_workers)
        return (tool('generate_synthetic')
                + [self.stage_name, '--out-dir', self.dir]
                + flag_args(flags, self.FLAGS)
                + list(self.settings['args']))

    def outputs(self):
        return [self.manifest, osp.join(self.dir, t2i.FILTER_REPORT)]

    def verify(self):
        report_file = self.outputs()[1]
        if not osp.isfile(report_file):
            return f'{report_file} does not exist'
        report = read_json(report_file)
        generated = len(read_manifest(self.inputs['images'].manifest))
        if report.get('scored') != generated:
            return (f'{report_file} scored {report.get("scored")} images, '
                    f'{generated} were generated')
        return manifest_problem(self.manifest, report.get('kept'))


class ReportStage(Stage):
    """A stage whose outputs are the ``FILES`` in its folder; done when all
    exist and ``JSON_FILE`` (one of them) parses."""
    FILES = ()
    JSON_FILE = ''

    def outputs(self):
        return [osp.join(self.dir, f) for f in self.FILES]

    def digest(self):
        return file_digest(*self.outputs())

    def verify(self):
        missing = [p for p in self.outputs() if not osp.isfile(p)]
        if missing:
            return f'{missing[0]} does not exist'
        path = osp.join(self.dir, self.JSON_FILE)
        try:
            read_json(path)
        except ValueError as e:
            return f'{path} does not read ({e})'
        return None


class CompareRuns(ReportStage):
    """``compare_runs`` over the training stages ``runs``."""
    type_name = 'compare_runs'
    refs = dict(runs=('train',))
    required = ('runs',)
    FILES = ('runs.md', 'runs.csv', 'runs.json')
    JSON_FILE = 'runs.json'

    def command(self, resume=False):
        return (tool('compare_runs')
                + [run.dir for run in self.inputs['runs']]
                + ['--out', self.dir])

    @property
    def table(self) -> str:
        return osp.join(self.dir, 'runs.md')


class SyntheticReport(ReportStage):
    """``synthetic_report MANIFEST DATASET_CONFIG
    ENCODER_CONFIG ENCODER_CHECKPOINT``: a manifest stage's images against
    the real data of the ``encoder`` training stage (dataset config =
    encoder config, with its --cfg-options); ``noise_flags``: a SAU
    training stage whose last epoch's noise flags the report shows."""
    type_name = 'synthetic_report'
    refs = dict(manifest=('diffult_filter', 'diffult_sample', 't2i_filter',
                          't2i_generate'),
                encoder=('train',), noise_flags=('train',))
    options = dict(device=None, args=[])
    required = ('manifest', 'encoder')
    FILES = ('index.html', 'synthetic_report.json', 'synthetic_report.md')
    JSON_FILE = 'synthetic_report.json'

    def command(self, resume=False):
        enc = self.inputs['encoder']
        flags = dict(self.settings, num_workers=self.pipeline.num_workers)
        sau = self.inputs.get('noise_flags')
        if sau is not None:
            flags['noise_flags'] = osp.join(sau.dir, 'noise_flags',
                                            f'epoch_{sau.total}.json')
        return (tool('synthetic_report')
                + [self.inputs['manifest'].manifest, enc.config_path,
                   enc.config_path, enc.checkpoint, '--out', self.dir]
                + flag_args(flags, ('noise_flags', 'num_workers', 'device'))
                + list(self.settings['args'])
                + cfg_option_args(enc.cfg_options))


STAGE_TYPES = {cls.type_name: cls for cls in (
    PrepareData, Train, DiffuLTSample, DiffuLTFilter, T2IPlan, T2IPrompts,
    T2IGenerate, T2IFilter, CompareRuns, SyntheticReport)}


def build_stages(pipeline: Pipeline) -> List[Stage]:
    """The pipeline's stages, checked (settings, references), in order."""
    stages: Dict[str, Stage] = {}
    for index, spec in enumerate(pipeline.stages):
        cls = STAGE_TYPES.get(spec.type)
        if cls is None:
            raise PipelineConfigError(
                f'Pipeline config {pipeline.filename}: stages.{spec.name} '
                f'has type {spec.type!r}; the types are '
                f'{sorted(STAGE_TYPES)}.')
        stages[spec.name] = cls(spec, pipeline, index, dict(stages))
    return list(stages.values())
