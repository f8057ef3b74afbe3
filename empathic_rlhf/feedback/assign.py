"""Who labels what: claiming a task, storing a label, undo. Each function runs inside the caller's transaction.

The quota guard is one conditional UPDATE, ``remaining = remaining - 1 WHERE id = ? AND remaining > 0``: on
PostgreSQL a concurrent claimer blocks on the row lock and re-checks the condition after the winner commits; on
SQLite transactions are serialised (BEGIN IMMEDIATE). Either way a task can never go past its quota, and the
UNIQUE(task, annotator) constraint means nobody sees a task twice, even with two browser tabs racing.
"""

from __future__ import annotations

import functools
import random
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy import bindparam, delete, exists, false, func, insert, select, true, update

from .config import LabelConfig
from .models import Assignment, Label, Task

OUTCOMES = ("best", "tie", "all_bad", "skip")
PROGRESS_CAP = 1000  # counting what is left stops here, so the count stays cheap on huge task sets


class LabelRejected(ValueError):
    """The submitted label is malformed; the message says why (HTTP 422)."""


class NotYours(LookupError):
    """No such assignment for this annotator (HTTP 404: another annotator's work is indistinguishable from none)."""


def _take_slot(s, task_pk: int) -> bool:
    return s.connection().execute(_q().take_slot, {"tid": task_pk}).rowcount == 1


def _give_slot(s, task_pk: int) -> None:
    s.connection().execute(_q().give_slot, {"tid": task_pk})


def shown_order(annotator_id: int, task: Task) -> list[str]:
    """A per-annotator shuffle (so position bias averages out), stable across reloads."""
    ids = [c["cand_id"] for c in task.record["candidates"]]
    random.Random(f"{annotator_id}:{task.task_id}").shuffle(ids)
    return ids


def _not_mine(annotator_id):
    return ~exists().where(Assignment.task_id == Task.id, Assignment.annotator_id == annotator_id)


@functools.cache
def _q() -> SimpleNamespace:
    """The per-label statements, built once with bind parameters, run on the session's connection (Core, rows, no
    ORM unit of work): building statements and the ORM layer cost more than the SQL itself here (profiled)."""
    me = bindparam("me")
    a_cols = (Assignment.id, Assignment.task_id, Assignment.annotator_id, Assignment.shown_order,
              Assignment.holds_slot, Assignment.labelled, Assignment.served_at)
    t_cols = (Task.id, Task.task_id, Task.kind, Task.record, Task.gold_best, Task.quota)
    open_ids = select(Task.id).where(Task.is_open == true(), _not_mine(me)).limit(PROGRESS_CAP).subquery()
    return SimpleNamespace(
        assignment=select(*a_cols).where(Assignment.id == bindparam("aid")),
        unfinished=select(*a_cols).where(Assignment.annotator_id == me, Assignment.labelled == false())
        .order_by(Assignment.id).limit(1),
        task=select(*t_cols).where(Task.id == bindparam("tid")),
        claim=select(*t_cols).where(Task.is_open == true(), _not_mine(me)).order_by(Task.priority, Task.id).limit(1),
        gold=select(*t_cols).where(Task.gold_best.is_not(None), _not_mine(me)).order_by(Task.id).limit(1),
        take_slot=update(Task).where(Task.id == bindparam("tid"), Task.remaining > 0)
        .values(remaining=Task.remaining - 1, is_open=Task.remaining > 1),
        give_slot=update(Task).where(Task.id == bindparam("tid"), Task.quota.is_not(None))
        .values(remaining=Task.remaining + 1, is_open=True),
        add_assignment=insert(Assignment),
        add_label=insert(Label),
        finish=update(Assignment).where(Assignment.id == bindparam("aid"))
        .values(labelled=True, holds_slot=bindparam("holds")),
        label_of=select(Label.id).where(Label.assignment_id == bindparam("aid")),
        progress=select(
            select(func.count()).select_from(Label).where(Label.annotator_id == me).scalar_subquery(),
            select(func.count()).select_from(Assignment).where(
                Assignment.annotator_id == me, Assignment.labelled == false()).scalar_subquery(),
            select(func.count()).select_from(open_ids).scalar_subquery()),
    )


def _assign(s, annotator_id: int, task, holds_slot: bool):
    order = shown_order(annotator_id, task)
    new_id = s.connection().execute(_q().add_assignment, dict(
        task_id=task.id, annotator_id=annotator_id, shown_order=order, holds_slot=holds_slot, labelled=False,
        served_at=datetime.now(timezone.utc))).inserted_primary_key[0]
    return SimpleNamespace(id=new_id, task_id=task.id, shown_order=order, holds_slot=holds_slot)


def next_assignment(s, annotator_id: int, config: LabelConfig, rng: random.Random | None = None):
    """The annotator's unfinished assignment, else a newly claimed one; ``(assignment, task)`` or None when done."""
    q, me, c = _q(), {"me": annotator_id}, s.connection()
    a = c.execute(q.unfinished, me).first()
    if a is not None:
        return a, c.execute(q.task, {"tid": a.task_id}).one()
    if (rng or random).random() < config.gold_fraction:
        gold = c.execute(q.gold, me).first()
        if gold is not None:
            return _assign(s, annotator_id, gold, holds_slot=False), gold
    for _ in range(20):  # a lost race (PostgreSQL only) just means: look again
        task = c.execute(q.claim, me).first()
        if task is None:
            return None
        if _take_slot(s, task.id):
            return _assign(s, annotator_id, task, holds_slot=True), task
    return None


def _check(payload: dict, a: Assignment, config: LabelConfig) -> dict:
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


def submit(s, annotator_id: int, payload: dict, config: LabelConfig) -> tuple[int, bool]:
    """Store the label of one of the annotator's assignments; ``(label_id, created)``. A repeated submission of
    the same assignment (a retry after a lost answer) returns the stored label's id and ``created=False``."""
    q, c, aid = _q(), s.connection(), payload.get("assignment_id")
    a = c.execute(q.assignment, {"aid": aid}).first() if isinstance(aid, int) and not isinstance(aid, bool) else None
    if a is None or a.annotator_id != annotator_id:
        raise NotYours("no such assignment: it may have expired; fetch the next task")
    if a.labelled:
        return c.execute(q.label_of, {"aid": a.id}).scalar(), False
    fields = _check(payload, a, config)
    label_id = c.execute(q.add_label, dict(
        assignment_id=a.id, task_id=a.task_id, annotator_id=annotator_id, shown_order=a.shown_order,
        created_at=datetime.now(timezone.utc), **fields)).inserted_primary_key[0]
    release = fields["outcome"] == "skip" and a.holds_slot  # a skip is no judgement: hand the slot to someone else
    c.execute(q.finish, {"aid": a.id, "holds": a.holds_slot and not release})
    if release:
        _give_slot(s, a.task_id)
    return label_id, True


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
    s.flush()  # the per-label statements run on the raw connection, which does not autoflush the ORM
    return task.task_id


def expire_stale(s, minutes: float) -> int:
    """Release assignments served longer than ``minutes`` ago and never labelled (an annotator who left)."""
    cutoff = datetime.now(timezone.utc) - timedelta(minutes=minutes)
    stale = s.execute(select(Assignment.id, Assignment.task_id, Assignment.holds_slot)
                      .where(Assignment.labelled == false(), Assignment.served_at < cutoff)).all()
    for aid, task_pk, holds in stale:
        s.execute(delete(Assignment).where(Assignment.id == aid, Assignment.labelled == false()))
        if holds:
            _give_slot(s, task_pk)
    return len(stale)


def progress(s, annotator_id: int) -> dict:
    """Labels done, and tasks left for this annotator (their unfinished ones plus open ones, counted up to a cap);
    one statement, since it runs on every label."""
    done, current, left = s.connection().execute(_q().progress, {"me": annotator_id}).one()
    return {"done": done, "left": left + current, "left_capped": left >= PROGRESS_CAP}
