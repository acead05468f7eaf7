"""Run a pipeline: the plan first, then every stage in its own process.

Each stage's status, from its outputs and ``WORK/pipeline_state.json``:

- ``done``: its outputs verify (:meth:`Stage.verify`) and its fingerprint
  (:mod:`.state`) is the recorded one: skipped;
- ``changed``: something of it is on disk, made with another command,
  config or input (the recorded fingerprint, or a training run's dumped
  config, differs): the run stops before doing any work and says
  ``config changed for stage X since it finished; rerun with --from X``;
- ``resume``: interrupted; rerun with ``--resume`` (training, from its
  last complete checkpoint) or as it was (the generators skip what exists);
- ``todo``: not started (or started without anything to resume from: the
  leftovers are moved aside);
- ``rerun``: ``--from`` names it or an earlier stage, or a stage it reads
  runs now: its old outputs are moved to ``WORK/replaced/`` and it runs from
  scratch.

A stage's output goes to ``WORK/logs/<stage>.log``; the console shows the
plan, one progress line at a time (``stage 3/7 train_ce: epoch 12/200, ETA
0:41:02``) and a summary with the results table, which is also written to
``WORK/results.md``.
"""
import codecs
import datetime
import fcntl
import os
import os.path as osp
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

from sau_mm.utils.fileio import atomic_write

from .config import Pipeline, PipelineConfigError
from .progress import ProgressReader, TrainingProgress, hms
from .stages import CompareRuns, Stage, SyntheticReport, Train
from .state import PipelineState, fingerprint

EXIT_CHANGED = 2


def say(message: str) -> None:
    """The console: one line, flushed (progress reaches a pipe at once)."""
    print(message, flush=True)


@dataclass
class Planned:
    """A stage, what is on disk of it, and what this run does with it."""
    stage: Stage
    status: str  # done / changed / resume / todo
    why: str
    fingerprint: str
    parts: dict
    digest: Optional[str] = None  # of its outputs, when done
    index: int = 0
    in_range: bool = True  # not after --until
    run: bool = False
    fresh: bool = False  # old outputs moved aside first

    forced: bool = False  # --from, or an input is made again

    @property
    def label(self) -> str:
        if self.forced and self.status != 'todo':
            return 'rerun' if self.run else 'rerun, not in this run'
        if not self.run and self.status in ('todo', 'resume'):
            return f'{self.status}, not in this run'
        return self.status


def _digest(text) -> str:
    return fingerprint([text], '', {})


def identify(stage: Stage, digest_of: Callable[[str], str]
             ) -> Tuple[str, dict]:
    """(fingerprint, its parts) of a stage: its command, its configs' text
    and the digests of the outputs it reads (``digest_of(stage name)``)."""
    upstream = {s.name: digest_of(s.name) for s in stage.upstream()}
    command, text = stage.command(), stage.config_text()
    parts = dict(command=_digest(shlex.join(command)), config=_digest(text),
                 upstream=upstream)
    return fingerprint(command, text, upstream), parts


def plan_stages(stages: List[Stage], state: PipelineState,
                start: Optional[str] = None, until: Optional[str] = None
                ) -> List[Planned]:
    """Every stage's status and whether this run runs it (module doc)."""
    names = [s.name for s in stages]
    for flag, name in (('--from', start), ('--until', until)):
        if name is not None and name not in names:
            raise PipelineConfigError(f'{flag} {name}: no such stage; the '
                                      f'stages are {names}.')
    first = names.index(start) if start else None
    last = names.index(until) if until else len(stages) - 1
    digests, running, planned = {}, set(), []
    for i, stage in enumerate(stages):
        fp, parts = identify(stage, lambda n: digests.get(n) or state.get(
            n).get('digest') or 'not made yet')
        entry = state.get(stage.name)
        problem = _checked(stage.verify)
        started = stage.started()
        conflict = _checked(stage.conflict) if started else None
        if started and entry and entry['fingerprint'] != fp:
            status, why = 'changed', _what_changed(entry, parts)
        elif conflict:
            status, why = 'changed', f'since it ran: {conflict}'
        elif problem is None:
            status, why = 'done', ''
            digests[stage.name] = stage.digest()
        elif started:
            status = 'resume' if stage.resumable() else 'todo'
            why = problem
        else:
            status, why = 'todo', ''
        item = Planned(stage, status, why, fp, parts,
                       digest=digests.get(stage.name), index=i)
        forced = (first is not None and i >= first) or any(
            s.name in running for s in stage.upstream())
        item.in_range, item.forced = i <= last, forced
        if item.in_range and (forced or status in ('todo', 'resume')):
            item.run = True
            item.fresh = forced or (status == 'todo' and started)
            running.add(stage.name)
        planned.append(item)
    return planned


def _checked(check: Callable[[], Optional[str]]) -> Optional[str]:
    """A check's finding; a file it cannot read is one too."""
    try:
        return check()
    except (OSError, ValueError, KeyError) as e:
        return f'{type(e).__name__}: {e}'


def _what_changed(entry: dict, parts: dict) -> str:
    old = entry.get('parts', {})
    what = [k for k in ('command', 'config') if old.get(k) != parts[k]]
    what += [f'the outputs of {name}' for name, d in parts['upstream'].items()
             if old.get('upstream', {}).get(name) != d]
    since = 'finished' if entry.get('status') == 'done' else 'started'
    return f'since it {since}: ' + (', '.join(
        f'its {w}' if w in ('command', 'config') else w for w in what)
        or 'its fingerprint')


def print_plan(pipeline: Pipeline, planned: List[Planned], out=say):
    out(f'Pipeline {pipeline.name} ({pipeline.filename}), work dir '
        f'{pipeline.work_dir}')
    n = len(planned)
    for i, item in enumerate(planned, 1):
        resume = item.status == 'resume' and not item.fresh
        out(f'{i:>2}/{n} {item.stage.name} [{item.label}]'
            + (f' ({item.why})' if item.why else ''))
        out(f'      {shlex.join(item.stage.command(resume=resume))}')
        out(f'      -> {", ".join(item.stage.outputs())}')


class WorkDirLock:
    """One run per work dir (an flock, released when the process ends)."""

    def __init__(self, work_dir: str):
        os.makedirs(work_dir, exist_ok=True)
        self.path = osp.join(work_dir, '.pipeline.lock')

    def __enter__(self):
        self.file = open(self.path, 'a+')
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.file.seek(0)
            raise RuntimeError(
                f'Another run_pipeline.py (pid {self.file.read().strip()}) '
                f'is running in {osp.dirname(self.path)}; wait for it or '
                'stop it first.') from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(str(os.getpid()))
        self.file.flush()
        return self

    def __exit__(self, *exc):
        self.file.close()


def _die_with_parent():
    """In the child: SIGTERM when the pipeline process dies (Linux), so a
    killed pipeline leaves no stage running on behind it."""
    try:
        import ctypes
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def move_aside(pipeline: Pipeline, stage: Stage, out=say) -> None:
    """Move the stage's existing outputs to WORK/replaced/<time>/."""
    stamp = datetime.datetime.now().strftime('%Y%m%d_%H%M%S_%f')
    for path in stage.owned_paths():
        if osp.lexists(path):
            target = osp.join(pipeline.replaced_dir, stamp,
                              osp.relpath(path, pipeline.work_dir))
            os.makedirs(osp.dirname(target), exist_ok=True)
            os.replace(path, target)
            out(f'      moved {path} to {target}')


LINE_END = re.compile(r'[\r\n]')
POLL_S = 1.0  # how often a training run's scalars are read, at most


def run_stage(pipeline: Pipeline, item: Planned, index: int, total: int,
              out=say) -> int:
    """Run one stage's command, its output to its log file and progress to
    ``out``; the exit status."""
    stage = item.stage
    resume = item.status == 'resume' and not item.fresh and \
        isinstance(stage, Train)
    command = stage.command(resume=resume)
    log_file = pipeline.log_file(stage.name)
    os.makedirs(osp.dirname(log_file), exist_ok=True)
    prefix = f'stage {index}/{total} {stage.name}'
    verb = 'resuming' if item.status == 'resume' and not item.fresh \
        else 'running'
    out(f'{prefix}: {verb} (log: {log_file})')
    if stage.progress == 'train':
        reader = TrainingProgress(stage.dir, stage.unit, stage.total)
    else:
        reader = ProgressReader()
    last_poll = time.monotonic()
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    with open(log_file, 'ab') as log:
        log.write(f'\n=== {datetime.datetime.now():%Y-%m-%d %H:%M:%S} '
                  f'{shlex.join(command)}\n'.encode())
        log.flush()
        start = log.tell()
        proc = subprocess.Popen([sys.executable] + command[1:],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env,
                                preexec_fn=_die_with_parent)
        decoder = codecs.getincrementaldecoder('utf-8')('replace')
        pending = ''
        try:
            while True:
                chunk = os.read(proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    break
                log.write(chunk)
                log.flush()
                pending += decoder.decode(chunk)
                *lines, pending = LINE_END.split(pending)
                if reader.kind == 'bar':
                    messages = [reader.feed(line) for line in lines]
                elif time.monotonic() - last_poll >= POLL_S:
                    messages, last_poll = reader.poll(), time.monotonic()
                else:
                    messages = []
                for message in filter(None, messages):
                    out(f'{prefix}: {message}')
            code = proc.wait()
            if reader.kind == 'train':
                for message in reader.poll():
                    out(f'{prefix}: {message}')
        except BaseException:
            proc.terminate()
            proc.wait()
            raise
    if code != 0:
        with open(log_file, 'rb') as f:
            f.seek(start)
            tail = f.read().decode('utf-8', 'replace').splitlines()[-25:]
        for line in tail:
            out(f'    | {line}')
        out(f'{prefix}: FAILED (exit status {code}). Full output: '
            f'{log_file}. Fix the cause and run the same command again: '
            'finished stages are skipped, this one resumes.')
    return code


def write_results(pipeline: Pipeline, stages: List[Stage]) -> Optional[str]:
    """WORK/results.md: the comparison table and where the reports are;
    None when no compare_runs stage is done."""
    compare = [s for s in stages if isinstance(s, CompareRuns)
               and s.verify() is None]
    if not compare:
        return None
    with open(compare[-1].table, encoding='utf-8') as f:
        table = f.read().strip()
    lines = [f'# Results: {pipeline.name}', '',
             f'Pipeline config `{pipeline.filename}`, work dir '
             f'`{pipeline.work_dir}`.', '', table, '', '## Files', '',
             '| stage | outputs |', '|---|---|']
    for stage in stages:
        lines.append(f'| {stage.name} | '
                     + ', '.join(f'`{p}`' for p in stage.outputs()) + ' |')
    reports = [s for s in stages if isinstance(s, SyntheticReport)]
    if reports:
        lines += ['', 'Synthetic-set reports: ' + ', '.join(
            f'`{s.outputs()[0]}`' for s in reports)]
    text = '\n'.join(lines) + '\n'
    atomic_write(pipeline.results_file, text)
    return text


def run_pipeline(pipeline: Pipeline, stages: List[Stage],
                 start: Optional[str] = None, until: Optional[str] = None,
                 dry_run: bool = False, out=say) -> int:
    """Plan, then run (module doc); the exit status: 0, a failed stage's,
    or EXIT_CHANGED."""
    if dry_run:
        state = PipelineState(pipeline.state_file)
        print_plan(pipeline, plan_stages(stages, state, start, until), out)
        out('Dry run: nothing was run.')
        return 0
    with WorkDirLock(pipeline.work_dir):
        state = PipelineState(pipeline.state_file)
        planned = plan_stages(stages, state, start, until)
        print_plan(pipeline, planned, out)
        changed = [p for p in planned if p.status == 'changed'
                   and not p.run and p.in_range]
        if changed:
            name = changed[0].stage.name
            since, detail = changed[0].why.split(': ', 1)
            out(f'config changed for stage {name} {since} ({detail}); rerun '
                f'with --from {name}')
            return EXIT_CHANGED
        _record_done(planned, state)
        pipeline.config.dump(osp.join(pipeline.work_dir, 'pipeline.py'))
        began, ran = time.monotonic(), 0
        for item in planned:
            if not item.run:
                continue
            stage, i, n = item.stage, item.index + 1, len(planned)
            if item.fresh:
                move_aside(pipeline, stage, out)
            # the inputs' digests as they are now (made in this run, maybe)
            fp, parts = identify(stage, lambda name: state.get(name).get(
                'digest') or 'not made yet')
            state.record(stage.name, fp, parts, 'running')
            t0 = time.monotonic()
            code = run_stage(pipeline, item, i, n, out)
            if code != 0:
                return code
            problem = _checked(stage.verify)
            if problem:
                out(f'stage {i}/{n} {stage.name}: its command succeeded but '
                    f'its outputs do not verify: {problem}. See '
                    f'{pipeline.log_file(stage.name)}.')
                return 1
            state.record(stage.name, fp, parts, 'done', stage.digest())
            ran += 1
            out(f'stage {i}/{n} {stage.name}: done in '
                f'{hms(time.monotonic() - t0)}')
        skipped = sum(p.status == 'done' and not p.run for p in planned)
        out(f'Pipeline {pipeline.name}: {ran} stage(s) run, {skipped} '
            f'already done, in {hms(time.monotonic() - began)}.')
        left = [p.stage.name for p in planned
                if not p.run and (p.status != 'done' or p.forced)]
        if left:  # --until: the table would not be of this pipeline yet
            out(f'Stopped after {until} (--until); not run: '
                f'{", ".join(left)}.')
            return 0
        results = write_results(pipeline, stages)
        if results:
            out(results.rstrip())
            out(f'Results: {pipeline.results_file}')
        return 0


def _record_done(planned: List[Planned], state: PipelineState) -> None:
    """Record the stages found done that the state does not hold as done
    with these outputs (e.g. made just before a kill)."""
    for item in planned:
        entry = state.get(item.stage.name)
        if item.status == 'done' and not item.run and (
                entry.get('status') != 'done'
                or entry.get('digest') != item.digest):
            state.record(item.stage.name, item.fingerprint, item.parts,
                         'done', item.digest)
