"""Task records in and out of the database: validation, idempotent import, and how a task is shown."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..errors import located
from ..io import read_jsonl
from .config import LabelConfig

MAX_CANDIDATES = 4  # keys 1-4 pick a reply; more would not fit a phone screen either
KINDS = ("policy-samples", "model-comparison")


def check_task(record: dict) -> str | None:
    """The reason ``record`` is not a valid Task (DESIGN.md), or None when it is."""
    for key in ("task_id", "kind", "history", "candidates"):
        if key not in record:
            return f"missing key {key!r}"
    if not isinstance(record["task_id"], str) or not record["task_id"]:
        return "task_id must be a non-empty string"
    if record["kind"] not in KINDS:
        return f"kind must be one of {list(KINDS)}, got {record['kind']!r}"
    history = record["history"]
    if not isinstance(history, list) or not all(
            isinstance(t, dict) and isinstance(t.get("role"), str) and isinstance(t.get("text"), str) for t in history):
        return "history must be a list of {role, text}"
    cands = record["candidates"]
    if not isinstance(cands, list) or not 2 <= len(cands) <= MAX_CANDIDATES:
        return f"candidates must be a list of 2-{MAX_CANDIDATES}"
    if not all(isinstance(c, dict) and isinstance(c.get("cand_id"), str) and isinstance(c.get("text"), str)
               for c in cands):
        return "each candidate needs a string cand_id and text"
    ids = [c["cand_id"] for c in cands]
    if len(set(ids)) != len(ids):
        return f"duplicate cand_id in {ids}"
    gold = record.get("gold")
    if gold is not None and gold not in ids:
        return f"gold {gold!r} is not one of the cand_ids {ids}"
    return None


def is_calibration(task_id: str, fraction: float) -> bool:
    """A stable choice (same answer on every import) of roughly ``fraction`` of the tasks."""
    digest = hashlib.sha256(task_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


@dataclass
class ImportResult:
    added: int = 0
    unchanged: int = 0
    differing: int = 0  # same task_id, other content: kept as stored, since labels refer to the stored candidates


def import_tasks(store, path, config: LabelConfig) -> ImportResult:
    """Add the tasks of a JSONL file that are not stored yet. Importing the same file twice adds nothing."""
    from sqlalchemy import select

    from .models import Task

    records = []
    for line, record in read_jsonl(path):
        problem = check_task(record)
        if problem:
            raise located(path, line, problem)
        records.append(record)
    result = ImportResult()
    with store.tx() as s:
        ids = [r["task_id"] for r in records]
        stored = {}
        for start in range(0, len(ids), 500):  # keep the IN list short for every backend
            chunk = ids[start:start + 500]
            stored.update(s.execute(select(Task.task_id, Task.record).where(Task.task_id.in_(chunk))).all())
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
    from .models import Task

    if record.get("gold") is not None:
        quota, priority = None, 1
    elif is_calibration(record["task_id"], config.calibration_fraction):
        quota, priority = config.calibration_overlap, 0
    else:
        quota, priority = config.overlap, 1
    return Task(task_id=record["task_id"], kind=record["kind"], record=record, gold_best=record.get("gold"),
                quota=quota, remaining=quota, is_open=quota is not None, priority=priority)


def shown(task, shown_order: list[str], *, with_gold: bool = False) -> dict:
    """What the annotator sees: the record with candidates in this annotator's order and no gold answer."""
    record = task.record
    by_id = {c["cand_id"]: c for c in record["candidates"]}
    view = {
        "task_id": record["task_id"],
        "kind": record["kind"],
        "emotion": record.get("emotion"),
        "situation": record.get("situation"),
        "history": [{"role": t["role"], "text": t["text"]} for t in record["history"]],
        # the model/source of a candidate is hidden: knowing it would bias the judgement
        "candidates": [{"cand_id": cid, "text": by_id[cid]["text"]} for cid in shown_order],
    }
    if with_gold:
        view["gold"] = task.gold_best
    return view
