"""The run directory: one folder per run, one sub-folder per stage, a config snapshot and a manifest.

    runs/<name>/config.yaml     the resolved config of the last command whose stage finished (never a failed one)
    runs/<name>/manifest.json   per stage: its own config (seed + the sections it reads), config hash, inputs
                                (path -> fingerprint), outputs, finished_at, seconds, summary
    runs/<name>/<stage>/        what the stage wrote

A stage is skipped when its config hash and input fingerprints equal those recorded and its outputs still exist;
so rerunning ``empathic run`` resumes after the last finished stage, and changing one stage's config reruns that
stage and everything downstream of it (their inputs change).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

from .io import atomic_path, sha256_file, write_json


def fingerprint(path: str | Path) -> str:
    """Content hash of a file; for a folder, a hash of its files' names, sizes and content hashes (small files)
    or sizes and modification times (large ones) -- cheap enough for model folders."""
    path = Path(path)
    if path.is_file():
        return sha256_file(path)[:16]
    if not path.is_dir():
        return "missing"
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = file.stat()
        token = sha256_file(file)[:16] if stat.st_size < (8 << 20) else f"{stat.st_size}:{stat.st_mtime_ns}"
        digest.update(f"{file.relative_to(path)}={token};".encode())
    return digest.hexdigest()[:16]


@dataclass
class RunDir:
    """A run's folder. ``RunDir(Path("runs/demo"))``."""

    path: Path

    def __post_init__(self):
        self.path = Path(self.path)

    def stage_dir(self, stage: str) -> Path:
        return self.path / stage

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def manifest(self) -> dict:
        if not self.manifest_path.is_file():
            return {"stages": {}}
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def save_config(self, config_dict: dict) -> None:
        _only_on_main("config.yaml")
        with atomic_path(self.path / "config.yaml") as tmp:
            tmp.write_text(yaml.safe_dump(config_dict, sort_keys=False, allow_unicode=True), encoding="utf-8")

    def is_current(self, stage: str, config: dict, defaults: dict, inputs: dict[str, str]) -> bool:
        """:meth:`is_up_to_date` for a stage's plain ``config``; keys its manifest entry predates (fields the toolkit
        added later) count as unchanged while they equal ``defaults`` (:func:`config.hash_as_recorded`)."""
        from .config import hash_as_recorded

        recorded = (self.manifest()["stages"].get(stage) or {}).get("config")
        return self.is_up_to_date(stage, hash_as_recorded(config, defaults, recorded), inputs)

    def is_up_to_date(self, stage: str, config_hash: str, inputs: dict[str, str]) -> bool:
        """True when ``stage`` finished before with the same config and inputs, and its outputs are all there."""
        entry = self.manifest()["stages"].get(stage)
        if not entry or entry.get("config_hash") != config_hash:
            return False
        if entry.get("inputs") != {name: fingerprint(p) for name, p in inputs.items()}:
            return False
        return all((self.path / out).exists() for out in entry.get("outputs", []))

    def record(self, stage: str, config_hash: str, inputs: dict[str, str], outputs: list[str],
               seconds: float, summary: dict | None = None, config: dict | None = None) -> None:
        """Write the stage's manifest entry (after its outputs are in place), with the config it ran with."""
        _only_on_main("manifest.json")
        manifest = self.manifest()
        manifest["stages"][stage] = {
            "config_hash": config_hash,
            "config": config or {},
            "inputs": {name: fingerprint(p) for name, p in inputs.items()},
            "input_paths": {name: str(p) for name, p in inputs.items()},
            "outputs": outputs,
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(seconds, 2),
            "summary": summary or {},
        }
        write_json(self.manifest_path, manifest)


def round_path(run_path: str | Path, number: int) -> Path:
    """Round ``number``'s run-shaped folder: the run itself for round 1, ``<run>/rounds/<n>/`` for later rounds
    (``rounds.count`` > 1; pipeline/rounds.py). The last round's ``rl/model`` is the run's final policy."""
    return Path(run_path) if number <= 1 else Path(run_path) / "rounds" / str(number)


def _only_on_main(what: str) -> None:
    """The run's records have one writer: under ``accelerate launch`` a write from another process is a bug."""
    from .distributed import is_main_process

    if not is_main_process():
        raise RuntimeError(f"{what} is written by the main process only (empathic_rlhf.distributed)")


class Timer:
    """``with Timer() as t: ...; t.seconds``"""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def checkpoints_for(folder: Path, identity: dict) -> Path:
    """A trainer's checkpoint folder that only ever resumes the same job: when ``identity`` (config, data) differs
    from the one recorded beside the checkpoints, the stale checkpoints are removed first."""
    import shutil

    folder = Path(folder)
    stamp = folder / "identity.json"
    wanted = json.dumps(identity, sort_keys=True, default=str)
    if folder.is_dir() and (not stamp.is_file() or stamp.read_text(encoding="utf-8") != wanted):
        if any(folder.glob("checkpoint-*")):
            print(f"config or data changed: discarding old checkpoints in {folder}", file=sys.stderr)
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp.write_text(wanted, encoding="utf-8")
    return folder


def drop_checkpoints(stage_dir: Path) -> None:
    """Remove the ``checkpoint-N`` folders of a finished training stage (``<stage>/checkpoints/``): weights and
    optimizer state that only an interrupted stage resumes from. What else the trainer logged there (TensorBoard's
    ``runs/``) stays."""
    import shutil

    for checkpoint in Path(stage_dir, "checkpoints").glob("checkpoint-*"):
        shutil.rmtree(checkpoint, ignore_errors=True)


def last_checkpoint(folder: Path) -> Path | None:
    """The newest complete ``checkpoint-N`` in ``folder`` (one with its ``trainer_state.json``: a checkpoint torn by
    a kill mid-save is skipped), or None."""
    found = [p for p in Path(folder).glob("checkpoint-*") if (p / "trainer_state.json").is_file()]
    return max(found, key=lambda p: int(p.name.rsplit("-", 1)[1]), default=None)


def checkpoints_and_resume(folder: Path, identity: dict) -> tuple[Path, Path | None]:
    """:func:`checkpoints_for` then :func:`last_checkpoint`: the folder and the checkpoint to resume from, or None.
    (Under several processes the main one calls it and hands both to the others: one process clears stale files.)"""
    checkpoints = checkpoints_for(folder, identity)
    return checkpoints, last_checkpoint(checkpoints)
