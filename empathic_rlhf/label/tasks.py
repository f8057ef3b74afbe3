"""Task records in and out of the database: validation (``records.Task``), idempotent import, and how a task is
shown to an annotator."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import EmpathicError, located
from ..io import json_problem
from ..records import Task, parse_record
from .config import LabelConfig
from .text import neutralise


def read_task_file(path) -> list[tuple[int, dict]]:
    """``(line, object)`` for each non-blank line, decoding UTF-8 line by line so that a Latin-1 file (or a stray
    byte) is one error naming the line, not a traceback."""
    path = Path(path)
    if not path.is_file():
        raise located(path, None, "file not found")
    out = []
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise located(path, number, f"not UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1}); "
                                            "save the file as UTF-8") from None
            if not line.strip():
                continue
            try:
                out.append((number, json.loads(line)))
            except json.JSONDecodeError as e:
                raise located(path, number, f"bad JSON ({json_problem(e)})") from None
    return out


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def validate_task(record: object, path=None, line: int | None = None) -> Task:
    """A ``records.Task``, plus what the app needs beyond it: no NUL characters (PostgreSQL cannot store them in
    text), and comparison tasks of exactly two replies from two different models (the report is pairwise)."""
    task = parse_record(Task, record, path, line)
    where = (lambda msg: located(path, line, msg)) if path is not None else EmpathicError
    if _has_nul(record):
        raise where("Task contains a NUL character (\\u0000): remove it")
    if task.kind == "model-comparison":
        sources = [c.source for c in task.candidates]
        if len(sources) != 2 or not all(sources) or sources[0] == sources[1]:
            raise where("Task field 'candidates': a model-comparison task needs exactly 2 candidates whose "
                        f"`source` names two different models, got sources {sources}")
    return task


def is_calibration(task_id: str, fraction: float) -> bool:
    """A stable choice (same answer on every import) of roughly ``fraction`` of the tasks."""
    digest = hashlib.sha256(task_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


@dataclass
class ImportResult:
    added: int = 0
    unchanged: int = 0
    differing: int = 0  # same task_id, other content: kept as stored, since labels refer to the stored candidates


def read_tasks(path) -> list[dict]:
    """The validated Task records of a file, as JSON objects; a task_id twice in one file is an error."""
    records, first_line = [], {}
    for line, raw in read_task_file(path):
        task = validate_task(raw, path, line)
        if task.task_id in first_line:
            raise located(path, line, f"Task field 'task_id': {task.task_id!r} repeats line {first_line[task.task_id]}")
        first_line[task.task_id] = line
        records.append(task.to_json())
    return records


def import_tasks(store, path, config: LabelConfig) -> ImportResult:
    """Add the tasks of a JSONL file that are not stored yet. Importing the same file twice adds nothing."""
    return import_records(store, read_tasks(path), config)


def import_records(store, records: list[dict], config: LabelConfig) -> ImportResult:
    """Add the tasks of ``records`` (:func:`read_tasks`) that are not stored yet."""
    from sqlalchemy import select

    from .models import Task as TaskRow

    result = ImportResult()
    with store.tx() as s:
        ids = [r["task_id"] for r in records]
        stored = {}
        for start in range(0, len(ids), 500):  # keep the IN list short for every backend
            chunk = ids[start:start + 500]
            stored.update(s.execute(select(TaskRow.task_id, TaskRow.record).where(TaskRow.task_id.in_(chunk))).all())
        for record in records:
            if record["task_id"] in stored:
                result.unchanged += stored[record["task_id"]] == record
                result.differing += stored[record["task_id"]] != record
                continue
            stored[record["task_id"]] = record
            s.add(new_task(record, config))
            result.added += 1
    return result


def new_task(record: dict, config: LabelConfig):
    from .models import Task as TaskRow

    if record.get("answer") is not None:
        quota, priority = None, 1
    elif is_calibration(record["task_id"], config.calibration_fraction):
        quota, priority = config.calibration_overlap, 0
    else:
        quota, priority = config.overlap, 1
    return TaskRow(task_id=record["task_id"], kind=record["kind"], record=record, gold_best=record.get("answer"),
                   quota=quota, remaining=quota, is_open=quota is not None, priority=priority)


def shown(task, shown_order: list[str]) -> dict:
    """What the annotator sees: the display history, candidates in this annotator's order, no model names, no
    known answer, and every text with its bidi overrides neutralised (they would change what people read)."""
    record = task.record
    by_id = {c["cand_id"]: c for c in record["candidates"]}
    return {
        "task_id": record["task_id"],
        "kind": record["kind"],
        "emotion": neutralise(record.get("emotion")),
        "situation": neutralise(record.get("situation")),
        "history": [{"role": t["role"], "text": neutralise(t["text"])} for t in record["history"]],
        "candidates": [{"cand_id": cid, "text": neutralise(by_id[cid]["text"])} for cid in shown_order],
    }
