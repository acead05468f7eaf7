"""What a pipeline remembers between runs: ``WORK/pipeline_state.json``,
per stage ``{"fingerprint": F, "parts": ..., "status": "running" | "done",
"digest": D}``.

F = sha256 of the stage's command (without ``--resume``), the text of the
configs it reads (after its --cfg-options) and the digests of the outputs of
the stages it reads; D = the digest of its own verified outputs (a finished
stage only). A finished stage whose F differs now had its config changed
since; a downstream stage's F changes with an upstream stage's outputs.
Written atomically after every change.
"""
import hashlib
import json
import os.path as osp
from typing import Dict, List, Optional

from sau_mm.utils.fileio import atomic_write


def fingerprint(command: List[str], config_text: str,
                upstream: Dict[str, str]) -> str:
    """sha256 of what defines a stage's outputs (module doc)."""
    doc = json.dumps(dict(command=command, config=config_text,
                          upstream=upstream), sort_keys=True)
    return hashlib.sha256(doc.encode()).hexdigest()


class PipelineState:
    """The state file of one work dir."""

    def __init__(self, path: str):
        self.path = path
        self.stages: Dict[str, dict] = {}
        if osp.isfile(path):
            with open(path, encoding='utf-8') as f:
                self.stages = json.load(f).get('stages', {})

    def get(self, name: str) -> dict:
        return self.stages.get(name, {})

    def record(self, name: str, fingerprint: str, parts: dict,
               status: str, digest: Optional[str] = None) -> None:
        """Store a stage's fingerprint (and what it is made of, to say what
        changed), status and outputs' digest; written at once."""
        self.stages[name] = dict(fingerprint=fingerprint, parts=parts,
                                 status=status, digest=digest)
        self.save()

    def save(self) -> None:
        atomic_write(self.path, json.dumps(dict(stages=self.stages),
                                           indent=1, sort_keys=True) + '\n')
