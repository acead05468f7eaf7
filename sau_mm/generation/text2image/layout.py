"""File names of the output folder and small helpers shared by the stages."""
import hashlib
import json
import os
import os.path as osp
from typing import Iterable, List

from mmengine.logging import print_log

from sau_mm.utils.fileio import atomic_write_json

PLAN = 'plan.json'
PROMPT_CACHE = 'prompts_cache.jsonl'
PROMPTS = 'prompts.json'
GENERATION = 'generation.json'
GENERATED = 'generated.jsonl'
MANIFEST = 'manifest.jsonl'
SCORE_CACHE_DIR = 'clip_scores'
SCORED = 'scored.jsonl'
FILTER_REPORT = 'filter_report.json'
INSPECT_DIR = 'inspect'
LOG_DIR = 'logs'


class StageError(RuntimeError):
    """A stage cannot go on; the message says what to check or rerun."""


STAGE_OF = {PLAN: 'plan', PROMPTS: 'prompts', GENERATED: 'generate'}


def class_text(name: str) -> str:
    """A class name as it goes into text: underscores become spaces."""
    return name.replace('_', ' ')


def fill_class(template: str, name: str) -> str:
    """``template`` with every ``{class}`` replaced by the class text."""
    return template.replace('{class}', class_text(name))


def settings_key(settings: dict) -> str:
    """Short stable hash of a JSON-serialisable settings dict."""
    text = json.dumps(settings, sort_keys=True, ensure_ascii=False)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def write_json(path: str, obj) -> None:
    """Write JSON atomically (:mod:`sau_mm.utils.fileio`)."""
    atomic_write_json(path, obj, indent=1, ensure_ascii=False)


def require(out_dir: str, name: str) -> str:
    """Path of ``out_dir/name``; if missing, an error naming the stage that
    writes it."""
    path = osp.join(out_dir, name)
    if not osp.isfile(path):
        stage = STAGE_OF.get(name, 'the previous stage')
        raise FileNotFoundError(
            f'{path} does not exist: run `tools/generate_synthetic.py '
            f'{stage} --out-dir {out_dir}` first.')
    return path


def read_json(out_dir: str, name: str):
    """Read ``out_dir/name`` (see :func:`require`)."""
    with open(require(out_dir, name), encoding='utf-8') as f:
        return json.load(f)


def read_jsonl_tolerant(path: str) -> List[dict]:
    """Lines of an append-only cache; a torn line (killed writer) is skipped
    with a warning, never an error."""
    if not osp.isfile(path):
        return []
    rows, torn = [], 0
    with open(path, encoding='utf-8') as f:
        for line in f:
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                torn += 1
    if torn:
        print_log(f'{path}: skipped {torn} torn line(s) left by an '
                  'interrupted run.', logger='current', level=30)
    return rows


def append_jsonl(path: str, rows: Iterable[dict]) -> None:
    """Append rows to a cache file, flushed and synced before returning; a
    torn last line is closed first so it cannot swallow the next row."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    torn = False
    if osp.isfile(path) and osp.getsize(path):
        with open(path, 'rb') as f:
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b'\n'
    with open(path, 'a', encoding='utf-8') as f:
        if torn:
            f.write('\n')
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + '\n')
        f.flush()
        os.fsync(f.fileno())
