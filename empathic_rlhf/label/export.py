"""Labels out of the database, as the shared records (``empathic_rlhf.records``) later stages read:

- ``labels.jsonl``: one ``records.Label`` per judgement, its ``source`` the annotator's kind in the database
  (``human``, or ``synthetic:<oracle>`` for a simulated annotator: label/simulate.py) -- decided here from the
  row, never by the caller, so no path can write a simulated label as a human one;
- ``tasks.jsonl``: the labelled tasks as ``records.Task`` (context, the prompt as π saw it, candidates), so labels
  plus tasks are self-contained;
- ``pairs.jsonl``: ``records.Pair`` rows, built only by ``records.pairs_from_label`` -- the one converter every
  stage uses (a best choice over each other reply, an edit over the reply it rewrote; none from ties, all-bad,
  skips or model-comparison tasks).
"""

from __future__ import annotations

from collections import Counter
from datetime import timezone
from pathlib import Path

from .. import records
from ..errors import EmpathicError
from ..records import write_records


def _rows(store):
    from sqlalchemy import select

    from .models import Annotator, Label, Task

    with store.read() as s:
        return s.execute(select(Label, Task.record, Annotator.name, Annotator.kind).join(Task, Task.id == Label.task_id)
                         .join(Annotator, Annotator.id == Label.annotator_id).order_by(Label.id)).all()


def label_record(label, task_id: str, annotator: str, kind: str) -> records.Label:
    """The record of one stored label; ``kind`` is its annotator's ``Annotator.kind``, which becomes the source."""
    if kind != "human" and not kind.startswith("synthetic:"):
        raise EmpathicError(f"annotator {annotator!r} has kind {kind!r}: expected human or synthetic:<oracle>")
    created = label.created_at if label.created_at.tzinfo else label.created_at.replace(tzinfo=timezone.utc)
    return records.Label.model_validate({
        "task_id": task_id, "annotator": annotator, "source": kind, "outcome": label.outcome,
        "best": label.best, "ratings": label.ratings, "edit": label.edit, "shown_order": label.shown_order,
        "seconds": round(label.seconds, 3), "created_at": created.isoformat()})


def export_records(store, counts: Counter | None = None):
    """``(labels, pairs, tasks)`` as records."""
    labels, pairs, tasks = [], [], {}
    for label, task_json, name, kind in _rows(store):
        task = tasks.get(task_json["task_id"]) or records.Task.model_validate(task_json)
        tasks[task.task_id] = task
        labels.append(label_record(label, task.task_id, name, kind))
        pairs.extend(records.pairs_from_label(task, labels[-1], counts))
    return labels, pairs, list(tasks.values())


def export_rows(store) -> tuple[list[dict], list[dict], list[dict]]:
    """The three files' rows as JSON objects (the admin page's downloads)."""
    return tuple([r.to_json() for r in part] for part in export_records(store))


def export(store, out_dir) -> dict:
    """Write labels.jsonl, pairs.jsonl and tasks.jsonl under ``out_dir`` (atomically); returns the counts."""
    counts = Counter()
    labels, pairs, tasks = export_records(store, counts)
    out_dir = Path(out_dir)
    return {"labels": write_records(out_dir / "labels.jsonl", labels),
            "pairs": write_records(out_dir / "pairs.jsonl", pairs),
            "tasks": write_records(out_dir / "tasks.jsonl", tasks),
            "ties_and_skips": sum(counts[o] for o in ("tie", "all_bad", "skip")),
            "evaluation_only": counts["evaluation_only"]}
