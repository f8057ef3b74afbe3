"""Labels out of the database, in the shapes later stages read (DESIGN.md):

- ``labels.jsonl``: one Label record per judgement (source ``human``);
- ``pairs.jsonl``: TRL preference rows ``{prompt, chosen, rejected, task_id, source}`` in conversational form;
- ``tasks.jsonl``: the labelled tasks as stored, so labels + tasks are self-contained (context, candidates).

Pairs: a ``best`` label gives best > each other candidate; an edit gives the human text > the reply it rewrote
(source ``human-edit``). Ties, "all bad" and skips give no pair. Model-comparison tasks give no pairs: they are
held-out evaluation judgements, and training on them would leak the evaluation into the model.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timezone
from pathlib import Path
from types import SimpleNamespace

from ..io import write_jsonl
from .config import LabelConfig

OTHER_SIDE = {"speaker": "listener", "listener": "speaker", "user": "assistant", "assistant": "user"}


def prompt_messages(record: dict, knowledge: list[str]) -> list[dict]:
    """The task's history as TRL chat messages: the side that replies next is ``assistant``, the other ``user``."""
    from ..data.samples import knowledge_text

    history = record["history"]
    replying = record.get("replying_role") or (OTHER_SIDE.get(history[-1]["role"], "assistant") if history
                                               else "assistant")
    segment = knowledge_text(SimpleNamespace(emotion=record.get("emotion"), situation=record.get("situation")),
                             knowledge)
    messages = [{"role": "system", "content": segment}] if segment else []
    messages += [{"role": "assistant" if t["role"] == replying else "user", "content": t["text"]} for t in history]
    return messages


def _rows(store):
    from sqlalchemy import select

    from .models import Annotator, Label, Task

    with store.tx() as s:
        return s.execute(select(Label, Task, Annotator.name).join(Task, Task.id == Label.task_id)
                         .join(Annotator, Annotator.id == Label.annotator_id).order_by(Label.id)).all()


def label_record(label, task, annotator: str) -> dict:
    created = label.created_at if label.created_at.tzinfo else label.created_at.replace(tzinfo=timezone.utc)
    return {"task_id": task.task_id, "annotator": annotator, "source": "human", "outcome": label.outcome,
            "best": label.best, "ratings": label.ratings, "edit": label.edit, "shown_order": label.shown_order,
            "seconds": round(label.seconds, 3), "created_at": created.isoformat()}


def pair_records(label, task, config: LabelConfig) -> Iterator[dict]:
    record = task.record
    if record["kind"] == "model-comparison":
        return
    texts = {c["cand_id"]: c["text"] for c in record["candidates"]}
    prompt = prompt_messages(record, config.pair_knowledge)

    def pair(chosen: str, rejected: str, source: str) -> dict:
        return {"prompt": prompt, "chosen": [{"role": "assistant", "content": chosen}],
                "rejected": [{"role": "assistant", "content": rejected}], "task_id": task.task_id, "source": source}

    if label.outcome == "best":
        for cid, text in texts.items():
            if cid != label.best:
                yield pair(texts[label.best], text, "human")
    if label.edit and label.edit["text"] != texts[label.edit["cand_id"]]:
        yield pair(label.edit["text"], texts[label.edit["cand_id"]], "human-edit")


def export_rows(store, config: LabelConfig) -> tuple[list[dict], list[dict], list[dict]]:
    labels, pairs, tasks = [], [], {}
    for label, task, name in _rows(store):
        labels.append(label_record(label, task, name))
        pairs.extend(pair_records(label, task, config))
        tasks.setdefault(task.task_id, task.record)
    return labels, pairs, list(tasks.values())


def export(store, out_dir, config: LabelConfig) -> dict:
    """Write labels.jsonl, pairs.jsonl and tasks.jsonl under ``out_dir`` (atomically); returns the counts."""
    labels, pairs, tasks = export_rows(store, config)
    out_dir = Path(out_dir)
    return {"labels": write_jsonl(out_dir / "labels.jsonl", labels),
            "pairs": write_jsonl(out_dir / "pairs.jsonl", pairs),
            "tasks": write_jsonl(out_dir / "tasks.jsonl", tasks)}
