"""Who labels what: claiming a task, storing a label, undo. Each function runs inside the caller's transaction.

The quota guard is one conditional UPDATE, ``remaining = remaining - 1 WHERE id = ? AND remaining > 0``: on
PostgreSQL a concurrent claimer blocks on the row lock and re-checks the condition after the winner commits; on
SQLite transactions are serialised (BEGIN IMMEDIATE). Either way a task can never go past its quota, and the
UNIQUE(task, annotator) constraint means nobody sees a task twice, even with two browser tabs racing.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, exists, func, select, update

from .config import LabelConfig
from .models import Assignment, Label, Task

OUTCOMES = ("best", "tie", "all_bad", "skip")
PROGRESS_CAP = 1000  # counting what is left stops here, so the count stays cheap on huge task sets


class LabelRejected(ValueError):
    """The submitted label is malformed; the message says why (HTTP 422)."""


class NotYours(LookupError):
    """No such assignment for this annotator (HTTP 404: another annotator's work is indistinguishable from none)."""


def _take_slot(s, task_pk: int) -> bool:
    done = s.execute(update(Task).where(Task.id == task_pk, Task.remaining > 0)
                     .values(remaining=Task.remaining - 1, is_open=Task.remaining > 1)
                     .execution_options(synchronize_session=False))
    return done.rowcount == 1


def _give_slot(s, task_pk: int) -> None:
    s.execute(update(Task).where(Task.id == task_pk, Task.quota.is_not(None))
              .values(remaining=Task.remaining + 1, is_open=True).execution_options(synchronize_session=False))


def shown_order(annotator_id: int, task: Task) -> list[str]:
    """A per-annotator shuffle (so position bias averages out), stable across reloads."""
    ids = [c["cand_id"] for c in task.record["candidates"]]
    random.Random(f"{annotator_id}:{task.task_id}").shuffle(ids)
    return ids


def _not_mine(annotator_id: int):
    return ~exists().where(Assignment.task_id == Task.id, Assignment.annotator_id == annotator_id)


def _assign(s, annotator_id: int, task: Task, holds_slot: bool) -> Assignment:
    a = Assignment(task_id=task.id, annotator_id=annotator_id, shown_order=shown_order(annotator_id, task),
                   holds_slot=holds_slot, labelled=False)
    s.add(a)
    s.flush()
    return a


def next_assignment(s, annotator_id: int, config: LabelConfig, rng: random.Random | None = None):
    """The annotator's unfinished assignment, else a newly claimed one; ``(assignment, task)`` or None when done."""
    a = s.scalar(select(Assignment).where(Assignment.annotator_id == annotator_id, Assignment.labelled.is_(False))
                 .order_by(Assignment.id).limit(1))
    if a is not None:
        return a, s.get(Task, a.task_id)
    if (rng or random).random() < config.gold_fraction:
        gold = s.scalar(select(Task).where(Task.gold_best.is_not(None), _not_mine(annotator_id))
                        .order_by(Task.id).limit(1))
        if gold is not None:
            return _assign(s, annotator_id, gold, holds_slot=False), gold
    for _ in range(20):  # a lost race (PostgreSQL only) just means: look again
        task = s.scalar(select(Task).where(Task.is_open.is_(True), _not_mine(annotator_id))
                        .order_by(Task.priority, Task.id).limit(1))
        if task is None:
            return None
        if _take_slot(s, task.id):
            return _assign(s, annotator_id, task, holds_slot=True), task
    return None


def _check(payload: dict, a: Assignment, task: Task, config: LabelConfig) -> dict:
    outcome = payload.get("outcome")
    if outcome not in OUTCOMES:
        raise LabelRejected(f"outcome must be one of {list(OUTCOMES)}")
    best = payload.get("best")
    if (outcome == "best") != (best is not None):
        raise LabelRejected("give `best` exactly when outcome is 'best'")
    if best is not None and best not in a.shown_order:
        raise LabelRejected(f"best {best!r} is not a candidate of this task")
    ratings = payload.get("ratings") or {}
    if not isinstance(ratings, dict):
        raise LabelRejected("ratings must map cand_id to {criterion: 1-5}")
    for cid, scores in ratings.items():
        if cid not in a.shown_order or not isinstance(scores, dict):
            raise LabelRejected(f"ratings: {cid!r} is not a candidate of this task")
        for crit, value in scores.items():
            if crit not in config.criteria or not isinstance(value, int) or isinstance(value, bool) \
                    or not 1 <= value <= 5:
                raise LabelRejected(f"ratings[{cid!r}][{crit!r}] must be an integer 1-5 of a configured criterion")
    if config.ratings_required and outcome == "best":
        missing = [c for c in config.criteria if c not in ratings.get(best, {})]
        if missing:
            raise LabelRejected(f"rate the chosen reply for {missing}")
    edit = payload.get("edit")
    if edit is not None:
        if not isinstance(edit, dict) or edit.get("cand_id") not in a.shown_order \
                or not isinstance(edit.get("text"), str) or not edit["text"].strip() or len(edit["text"]) > 5000:
            raise LabelRejected("edit must be {cand_id of this task, text of 1-5000 characters}")
        edit = {"cand_id": edit["cand_id"], "text": edit["text"].strip()}
    seconds = payload.get("seconds")
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= 86400:
        served = a.served_at if a.served_at.tzinfo else a.served_at.replace(tzinfo=timezone.utc)
        seconds = (datetime.now(timezone.utc) - served).total_seconds()
    return {"outcome": outcome, "best": best, "ratings": ratings, "edit": edit, "seconds": float(seconds)}


def submit(s, annotator_id: int, payload: dict, config: LabelConfig) -> tuple[Label, bool]:
    """Store the label of one of the annotator's assignments; ``(label, created)``. A repeated submission of
    the same assignment (a retry after a lost answer) returns the stored label and ``created=False``."""
    a = s.get(Assignment, payload.get("assignment_id")) if isinstance(payload.get("assignment_id"), int) else None
    if a is None or a.annotator_id != annotator_id:
        raise NotYours("no such assignment: it may have expired; fetch the next task")
    if a.labelled:
        return s.scalar(select(Label).where(Label.assignment_id == a.id)), False
    task = s.get(Task, a.task_id)
    fields = _check(payload, a, task, config)
    label = Label(assignment_id=a.id, task_id=task.id, annotator_id=annotator_id, shown_order=a.shown_order,
                  **fields)
    s.add(label)
    a.labelled = True
    if fields["outcome"] == "skip" and a.holds_slot:
        a.holds_slot = False  # a skip is no judgement: hand the slot to someone else
        _give_slot(s, task.id)
    s.flush()
    return label, True


def undo(s, annotator_id: int) -> str | None:
    """Delete the annotator's newest label; its task becomes their current one again. Returns its task_id."""
    label = s.scalar(select(Label).where(Label.annotator_id == annotator_id).order_by(Label.id.desc()).limit(1))
    if label is None:
        return None
    a = s.get(Assignment, label.assignment_id)
    task = s.get(Task, a.task_id)
    s.delete(label)
    s.flush()
    a.labelled = False
    if not a.holds_slot and task.quota is not None:  # an undone skip must win its slot back
        if _take_slot(s, task.id):
            a.holds_slot = True
        else:
            s.delete(a)  # the task filled up meanwhile
    return task.task_id


def expire_stale(s, minutes: float) -> int:
    """Release assignments served longer than ``minutes`` ago and never labelled (an annotator who left)."""
    cutoff = datetime.now(timezone.utc) - timedelta(minutes=minutes)
    stale = s.execute(select(Assignment.id, Assignment.task_id, Assignment.holds_slot)
                      .where(Assignment.labelled.is_(False), Assignment.served_at < cutoff)).all()
    for aid, task_pk, holds in stale:
        s.execute(delete(Assignment).where(Assignment.id == aid, Assignment.labelled.is_(False)))
        if holds:
            _give_slot(s, task_pk)
    return len(stale)


def progress(s, annotator_id: int) -> dict:
    done = s.scalar(select(func.count()).select_from(Label).where(Label.annotator_id == annotator_id))
    open_ids = select(Task.id).where(Task.is_open.is_(True), _not_mine(annotator_id)).limit(PROGRESS_CAP).subquery()
    left = s.scalar(select(func.count()).select_from(open_ids))
    current = s.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.annotator_id == annotator_id, Assignment.labelled.is_(False)))
    return {"done": done, "left": left + current, "left_capped": left >= PROGRESS_CAP}
