"""The records that pass between stages, defined and validated once (see docs/design.md, "Records").

    Sample ──sample──▶ Task ──label (app, bootstrap, simulator)──▶ Label ──pairs_from_label──▶ Pair ──▶ reward, dpo

Every stage reads and writes these through :func:`read_records` / :func:`write_records`, and the labelling app's
routes validate request bodies with the same models, so a field means the same thing everywhere. They are
pydantic models (strict about types: ``text: 42`` is an error, not ``"42"``) with ``extra="forbid"``, so a typo in a
hand-written file is reported instead of silently dropped.

A Task carries everything later stages need -- the prompt exactly as π saw it (roles and knowledge segment
included), the display history with ED roles, and the gold reply -- so nothing is ever re-derived backwards from
the prepared splits or from a config the later stage does not share.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import (BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator,
                      model_validator)

from .errors import EmpathicError, located
from .io import read_jsonl, write_jsonl

ChatRole = Literal["system", "user", "assistant"]
EdRole = Literal["speaker", "listener"]
TaskKind = Literal["policy-samples", "model-comparison", "live-chat"]
Outcome = Literal["best", "tie", "all_bad", "skip"]
OUTCOMES: tuple[str, ...] = ("best", "tie", "all_bad", "skip")
OTHER_ROLE: dict[str, str] = {"speaker": "listener", "listener": "speaker"}
GOLD_SOURCE = "gold"  # the candidate ``source`` that marks the dataset's own human reply
MAX_CANDIDATES = 5  # k <= 4 sampled replies + the gold reply the bootstrap adds (the app shows at most 4)
MAX_TEXT = 20_000  # characters of one utterance/reply: longer is a broken file, not a dialogue

Text = Annotated[str, Field(max_length=MAX_TEXT)]
Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


class Record(BaseModel):
    """Strict, closed records: wrong types and unknown keys are errors that name the field."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    def to_json(self) -> dict:
        return self.model_dump(mode="json", exclude_none=False)


class Message(Record):
    """One chat message in TRL's conversational form."""

    role: ChatRole
    content: Text


class Sample(Record):
    """One reply with its context (``prepare``'s output, ``sft``'s input). The replying side is ``assistant``."""

    sample_id: Id
    conv_id: Id
    emotion: str | None = None
    situation: str | None = None
    reply_role: EdRole = "listener"  # who speaks the reply in the ED conversation (the seed also trains speakers)
    prompt: list[Message] = Field(min_length=1)
    completion: list[Message] = Field(min_length=1, max_length=1)

    @field_validator("completion")
    @classmethod
    def _assistant_reply(cls, completion: list[Message]) -> list[Message]:
        if completion[0].role != "assistant":
            raise ValueError("the completion must be one assistant message")
        return completion

    @property
    def reply(self) -> str:
        return self.completion[0].content


class Turn(Record):
    """One turn of a context as people see it in the labelling app."""

    role: EdRole | Literal["user", "assistant"]
    text: Text


class Candidate(Record):
    cand_id: Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")]
    text: Text
    source: str = ""  # the model that wrote it, or "gold"; hidden from annotators


class Task(Record):
    """A comparison task: one context and 2-4 candidate replies (Sample + replies, or a live chat)."""

    task_id: Id
    kind: TaskKind = "policy-samples"
    conv_id: str | None = None
    emotion: str | None = None
    situation: str | None = None
    prompt: list[Message] = Field(min_length=1)  # exactly as π saw it, knowledge segment included
    history: list[Turn]  # for display: the prompt's turns with ED roles (no knowledge segment)
    gold: Text | None = None  # the dataset's own reply to this context, when there is one
    candidates: list[Candidate] = Field(min_length=2, max_length=MAX_CANDIDATES)
    answer: str | None = None  # a calibration task's known best cand_id (the app checks annotators against it)
    sampling: dict = Field(default_factory=dict)
    round: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> Task:
        ids = [c.cand_id for c in self.candidates]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate cand_id in {ids}")
        if self.answer is not None and self.answer not in ids:
            raise ValueError(f"answer {self.answer!r} is not one of the cand_ids {ids}")
        return self

    def text_of(self, cand_id: str) -> str:
        return next(c.text for c in self.candidates if c.cand_id == cand_id)


Score = Annotated[int, Field(ge=1, le=5)]
CRITERIA: tuple[str, ...] = ("empathy", "relevance", "fluency")


class Ratings(Record):
    """1-5 ratings of one reply on the seed's three questions; the app may ask only some of them."""

    empathy: Score | None = None
    relevance: Score | None = None
    fluency: Score | None = None

    @model_validator(mode="after")
    def _some(self) -> Ratings:
        if all(getattr(self, c) is None for c in CRITERIA):
            raise ValueError("ratings of a reply need at least one of empathy, relevance, fluency")
        return self


class Edit(Record):
    """A person's rewrite of one candidate: the rewrite is preferred over the original."""

    cand_id: str
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("an edit must not be blank")
        return text


class Label(Record):
    """One judgement of one task by one annotator or one bootstrap source (lm-human-preferences' best_of_N)."""

    task_id: Id
    annotator: Annotated[str, Field(min_length=1, max_length=200)]  # people name themselves freely
    source: str  # human | gold-vs-policy | synthetic:<oracle>
    outcome: Outcome
    best: str | None = None
    ratings: dict[str, Ratings] = Field(default_factory=dict)
    edit: Edit | None = None
    shown_order: list[str] = Field(default_factory=list)
    seconds: float | None = Field(default=None, ge=0)
    created_at: str | None = None

    @field_validator("source")
    @classmethod
    def _known_source(cls, source: str) -> str:
        if source not in ("human", "gold-vs-policy") and not (source.startswith("synthetic:") and len(source) > 10):
            raise ValueError(f"source {source!r} must be human, gold-vs-policy or synthetic:<oracle>")
        return source

    @field_validator("seconds")
    @classmethod
    def _finite(cls, seconds: float | None) -> float | None:
        if seconds is not None and not math.isfinite(seconds):
            raise ValueError("seconds must be a finite number")
        return seconds

    @model_validator(mode="after")
    def _outcome_fields(self) -> Label:
        if self.outcome == "best" and not self.best:
            raise ValueError("outcome 'best' needs 'best' (a cand_id)")
        if self.outcome != "best" and self.best is not None:
            raise ValueError(f"outcome {self.outcome!r} takes no 'best'")
        if self.outcome in ("all_bad", "skip") and (self.edit or self.ratings):
            raise ValueError(f"outcome {self.outcome!r} takes no edit or ratings")
        if self.edit is not None and self.edit.cand_id != self.best:
            raise ValueError("an edit rewrites the chosen reply: edit.cand_id must equal best")
        return self

    @field_serializer("ratings")
    def _asked_only(self, ratings: dict[str, Ratings]) -> dict:
        return {cand: r.model_dump(exclude_none=True) for cand, r in ratings.items()}  # criteria not asked: absent

    @property
    def synthetic(self) -> bool:
        return self.source.startswith("synthetic:")


class Pair(Record):
    """A preference pair in the form TRL's reward and DPO trainers read, with where it came from."""

    prompt: list[Message]
    chosen: list[Message] = Field(min_length=1, max_length=1)
    rejected: list[Message] = Field(min_length=1, max_length=1)
    task_id: str
    source: str
    annotator: str
    edit: bool = False  # True: chosen is a person's rewrite of rejected


R = TypeVar("R", bound=Record)


def parse_record(model: type[R], record: object, path: str | Path | None = None, line: int | None = None) -> R:
    """Validate one JSON object as ``model``; an error names the file, line and field."""
    if not isinstance(record, dict):
        raise _error(path, line, f"expected a {model.__name__} object, got {type(record).__name__}")
    try:
        return model.model_validate(record)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or model.__name__
        raise _error(path, line, f"{model.__name__} field {where!r}: {first['msg']}") from None


def _error(path, line, message: str) -> EmpathicError:
    return located(path, line, message) if path is not None else EmpathicError(message)


def read_records(path: str | Path, model: type[R], limit: int | None = None) -> list[R]:
    """Every record of a JSONL file as ``model`` (the first ``limit``), validated line by line."""
    out = []
    for line, record in read_jsonl(path):
        out.append(parse_record(model, record, path, line))
        if limit is not None and len(out) >= limit:
            break
    return out


def write_records(path: str | Path, records) -> int:
    """Write records (atomically) as JSON lines; returns how many."""
    return write_jsonl(path, (r.to_json() for r in records))


def display_history(prompt: list[Message], reply_role: str = "listener") -> list[Turn]:
    """The prompt's turns with ED roles: ``assistant`` turns were spoken by the replying side."""
    other = OTHER_ROLE.get(reply_role, "user")
    return [Turn(role=reply_role if m.role == "assistant" else other, text=m.content)
            for m in prompt if m.role != "system"]


def history_texts(prompt: list[Message] | list[dict]) -> list[str]:
    """The utterances of a prompt, oldest first, without the knowledge segment (what utterance scorers read)."""
    return [m.content if isinstance(m, Message) else m["content"] for m in prompt
            if (m.role if isinstance(m, Message) else m["role"]) != "system"]


def alternating_prompt(history: list[str]) -> list[dict]:
    """Chat messages for a plain history: the newest turn is the other side's (``user``), roles alternate back."""
    n = len(history)
    return [{"role": "user" if (n - 1 - i) % 2 == 0 else "assistant", "content": t} for i, t in enumerate(history)]


def as_dicts(messages: list[Message]) -> list[dict]:
    """Messages as the plain dicts chat templates and TRL read."""
    return [{"role": m.role, "content": m.content} for m in messages]


def reply(text: str) -> list[Message]:
    return [Message(role="assistant", content=text)]


def pairs_from_label(task: Task, label: Label, counts: Counter | None = None) -> list[Pair]:
    """The preference pairs one label implies -- the one converter every stage uses.

    - ``best``: the chosen reply over each other candidate (the Bradley-Terry reading of a best-of-k choice, as
      InstructGPT does with rankings); a candidate with the same text as the chosen one gives no pair (it would
      teach the model that a reply beats itself).
    - an edit: the person's rewrite over the reply it rewrote (``edit: True``), when the text changed.
    - ``tie``, ``all_bad``, ``skip``: no pair (TRL's loss has no tie term; nothing is preferred) -- counted.
    - ``model-comparison`` tasks: no pair. They are held-out evaluation judgements; training on them would leak
      the evaluation into the model.
    """
    counts = counts if counts is not None else Counter()
    counts[label.outcome] += 1
    if label.task_id != task.task_id:
        raise EmpathicError(f"label of task {label.task_id!r} was given task {task.task_id!r}")
    if task.kind == "model-comparison":
        counts["evaluation_only"] += 1
        return []
    texts = {c.cand_id: c.text for c in task.candidates}
    meta = {"prompt": task.prompt, "task_id": task.task_id, "source": label.source, "annotator": label.annotator}
    pairs = []
    if label.outcome == "best":
        if label.best not in texts:
            raise EmpathicError(f"label of task {task.task_id!r}: best {label.best!r} is not one of its candidates")
        chosen = texts[label.best]
        pairs += [Pair(chosen=reply(chosen), rejected=reply(text), **meta)
                  for cand_id, text in texts.items() if cand_id != label.best and text.strip() != chosen.strip()]
    if label.edit is not None and label.edit.text.strip() != texts[label.edit.cand_id].strip():
        pairs.append(Pair(chosen=reply(label.edit.text), rejected=reply(texts[label.edit.cand_id]), edit=True,
                          **meta))
        counts["edit_pairs"] += 1
    counts["pairs"] += len(pairs)
    return pairs
