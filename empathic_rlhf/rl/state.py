"""What an RL run must carry across a kill besides TRL's own checkpoint: beta and the kept-checkpoint record.

``rl_state.json`` is written (atomically) into each ``checkpoint-N`` right after TRL finished saving it (the
``on_save`` hook), so a checkpoint with that file is complete *and* carries the beta and the kept-model record of
step N. A resumed run starts from the newest such checkpoint; one torn by a kill before its state was written is
skipped. The kept model itself (``rl/model``) carries its own record (``selection.json``, written inside the same
atomic rename as the weights), so the record always describes the weights on disk.
"""

from __future__ import annotations

import json
from pathlib import Path

STATE_FILE = "rl_state.json"
SELECTION_FILE = "selection.json"


def write_state(checkpoint: Path, state: dict) -> None:
    from ..io import write_json

    write_json(Path(checkpoint) / STATE_FILE, state)


def read_state(checkpoint: Path) -> dict:
    return json.loads((Path(checkpoint) / STATE_FILE).read_text(encoding="utf-8"))


def resumable_checkpoint(folder: Path) -> Path | None:
    """The newest checkpoint holding both TRL's ``trainer_state.json`` and our ``rl_state.json``, or None."""
    found = [p for p in Path(folder).glob("checkpoint-*")
             if (p / "trainer_state.json").is_file() and (p / STATE_FILE).is_file()]
    return max(found, key=lambda p: int(p.name.rsplit("-", 1)[1]), default=None)


def kept_record(model_dir: Path) -> dict | None:
    """The record of the model in ``model_dir`` (written with it), or None when there is none."""
    path = Path(model_dir) / SELECTION_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def truncate_jsonl(path: Path, after_step: int) -> None:
    """Drop records of steps after ``after_step`` (written before a kill, redone by the resumed run)."""
    from ..io import write_jsonl

    path = Path(path)
    if not path.is_file():
        return
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    write_jsonl(path, [r for r in records if r.get("step", 0) <= after_step])
