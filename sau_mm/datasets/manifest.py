"""The synthetic-image manifest: one format for every generator.

A manifest is a JSON-Lines file, one generated image per line::

    {"path": "images/3/000012.png", "label": 3, "source": "sd15",
     "score": 0.31, "prompt": "A photo of a cat.", "seed": 1234}

- ``path`` (required): the image file, relative to the manifest's folder (or
  absolute).
- ``label`` (required): integer class index of the dataset it fills.
- ``source`` (required): what made it (``"stable-diffusion"``, ``"diffult"``,
  ``"oracle"`` for held-out real images used only for diagnosis, ...).
- ``score``, ``prompt``, ``seed`` (optional): filter score, text prompt and
  generator seed. Any other key is kept in ``extra``.

Writers use :func:`write_manifest` (atomic replace) or :func:`append_records`
(one flushed line per record, for resumable generators); readers use
:func:`read_manifest`, which names the line of any malformed record. Each
image is listed once: a dataset refuses a manifest that lists a file twice
(:func:`check_unique_images`, naming both lines).
"""
import json
import os
import os.path as osp
from dataclasses import asdict, dataclass, field
from typing import Iterable, List, Optional, Tuple

from sau_mm.utils.fileio import atomic_path

REQUIRED_KEYS = ('path', 'label', 'source')
OPTIONAL_KEYS = ('score', 'prompt', 'seed')


class ManifestError(ValueError):
    """A manifest that cannot be used as it is."""


@dataclass
class ManifestRecord:
    """One synthetic image."""
    path: str
    label: int
    source: str
    score: Optional[float] = None
    prompt: Optional[str] = None
    seed: Optional[int] = None
    extra: dict = field(default_factory=dict)

    def to_json(self) -> str:
        data = {k: v for k, v in asdict(self).items()
                if k != 'extra' and v is not None}
        data.update(self.extra)
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict) -> 'ManifestRecord':
        missing = [k for k in REQUIRED_KEYS if k not in data]
        if missing:
            raise ManifestError(f'missing key(s) {missing}')
        label = data['label']
        if isinstance(label, bool) or not isinstance(label, int):
            raise ManifestError(f'label must be an integer, got {label!r}')
        known = REQUIRED_KEYS + OPTIONAL_KEYS
        return cls(
            path=str(data['path']),
            label=label,
            source=str(data['source']),
            score=None if data.get('score') is None else float(data['score']),
            prompt=data.get('prompt'),
            seed=None if data.get('seed') is None else int(data['seed']),
            extra={k: v for k, v in data.items() if k not in known})


def resolve_path(manifest_path: str, record: ManifestRecord) -> str:
    """Absolute path of a record's image (relative paths: manifest folder)."""
    if osp.isabs(record.path):
        return record.path
    return osp.join(osp.dirname(osp.abspath(manifest_path)), record.path)


def read_manifest_lines(manifest_path: str
                        ) -> List[Tuple[int, ManifestRecord]]:
    """``(line number, record)`` of every record (blank lines skipped); a
    malformed line raises ManifestError naming it."""
    if not osp.isfile(manifest_path):
        raise FileNotFoundError(
            f'Synthetic manifest {manifest_path!r} does not exist.')
    records = []
    with open(manifest_path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                records.append(
                    (line_no, ManifestRecord.from_dict(json.loads(line))))
            except (json.JSONDecodeError, ManifestError, TypeError,
                    ValueError) as e:
                raise ManifestError(
                    f'{manifest_path}, line {line_no}: bad record ({e}). '
                    'Regenerate the manifest or fix that line.') from e
    return records


def read_manifest(manifest_path: str) -> List[ManifestRecord]:
    """Read every record; a malformed line raises ManifestError naming it."""
    return [rec for _, rec in read_manifest_lines(manifest_path)]


def check_unique_images(manifest_path: str,
                        numbered: Iterable[Tuple[int, ManifestRecord]]
                        ) -> None:
    """Raise ManifestError when two records name the same image file (after
    :func:`resolve_path`): a dataset would train on it twice."""
    first = {}
    for line_no, rec in numbered:
        path = osp.normpath(resolve_path(manifest_path, rec))
        if path in first:
            raise ManifestError(
                f'{manifest_path}: lines {first[path]} and {line_no} both '
                f'list the image {path!r}, so it would be used twice. '
                'Remove one of the two lines.')
        first[path] = line_no


def write_manifest(manifest_path: str,
                   records: Iterable[ManifestRecord]) -> None:
    """Write all records at once, atomically (:mod:`sau_mm.utils.fileio`)."""
    with atomic_path(manifest_path) as tmp, \
            open(tmp, 'w', encoding='utf-8') as f:
        for record in records:
            f.write(record.to_json() + '\n')


def append_records(manifest_path: str,
                   records: Iterable[ManifestRecord]) -> None:
    """Append records, each line flushed and synced before returning."""
    os.makedirs(osp.dirname(osp.abspath(manifest_path)), exist_ok=True)
    with open(manifest_path, 'a', encoding='utf-8') as f:
        for record in records:
            f.write(record.to_json() + '\n')
        f.flush()
        os.fsync(f.fileno())
