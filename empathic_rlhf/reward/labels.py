"""Label records: one judgement of one comparison task, by one annotator or one bootstrap source.

The small label type of lm-human-preferences (``best_of_N``), in the run directory's JSON-lines form::

    {task_id, annotator, source: human|gold-vs-policy|synthetic:<scorer>, outcome: best|tie|all_bad|skip,
     best: cand_id|null, ratings: {cand_id: {empathy, relevance, fluency}}, edit: {cand_id, text}|null,
     shown_order: [cand_id...], seconds, created_at}
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import located
from ..io import read_jsonl, write_jsonl

OUTCOMES = ("best", "tie", "all_bad", "skip")


@dataclass(frozen=True)
class Label:
    task_id: str
    annotator: str
    source: str
    outcome: str
    best: str | None = None
    ratings: dict = field(default_factory=dict)
    edit: dict | None = None
    shown_order: list = field(default_factory=list)
    seconds: float | None = None
    created_at: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


def check_label(path, line: int, record: dict) -> Label:
    """A :class:`Label` from a JSON record, or an error naming the file, line and field."""
    for key in ("task_id", "annotator", "source", "outcome"):
        if not record.get(key):
            raise located(path, line, f"label field {key!r} is missing or empty")
    if record["outcome"] not in OUTCOMES:
        raise located(path, line, f"label outcome {record['outcome']!r} is not one of {', '.join(OUTCOMES)}")
    if record["outcome"] == "best" and not record.get("best"):
        raise located(path, line, "label with outcome 'best' needs 'best' (a cand_id)")
    source = record["source"]
    if source not in ("human", "gold-vs-policy") and not source.startswith("synthetic:"):
        raise located(path, line, f"label source {source!r} must be human, gold-vs-policy or synthetic:<scorer>")
    edit = record.get("edit")
    if edit is not None and not (isinstance(edit, dict) and edit.get("cand_id") and str(edit.get("text", "")).strip()):
        raise located(path, line, "label 'edit' must be {cand_id, text} with non-empty text")
    known = set(Label.__dataclass_fields__)
    return Label(**{k: v for k, v in record.items() if k in known})


def read_labels(path: str | Path) -> list[Label]:
    return [check_label(path, line, record) for line, record in read_jsonl(path)]


def write_labels(path: str | Path, labels: list[Label]) -> int:
    return write_jsonl(path, (label.to_json() for label in labels))
