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

from pydantic import ValidationError
from sqlalchemy import Connection, bindparam, delete, exists, false, func, insert, select, true, update

from .. import records
from .config import LabelConfig
from .models import Assignment, Label, Task
from .requests import LabelRejected, LabelRequest

PROGRESS_CAP = 100  # counting what is left stops here ("100+ left"): the count ran on every label and was the
# costliest statement per label at a cap of 1000 (profiled: 15% of the server's time under load)
__all__ = ["LabelRejected", "NotYours", "OtherTask", "next_assignment", "submit", "undo", "expire_stale", "progress"]


class NotYours(LookupError):
    """No such assignment for this annotator (HTTP 404: another annotator's work is indistinguishable from none;
    an expired reservation is gone too)."""


class OtherTask(LookupError):
    """The label names another task than its assignment (HTTP 409): a stale page; nothing is stored."""


def _conn(session) -> Connection:
    """The Core connection of a unit of work: the server passes one directly (no ORM session: its bookkeeping
    cost more than the SQL per label), the terminal and tests pass an ORM session."""
    return session if isinstance(session, Connection) else session.connection()


def _take_slot(session, task_pk: int) -> bool:
    return _conn(session).execute(_q().take_slot, {"tid": task_pk}).rowcount == 1


def _give_slot(session, task_pk: int) -> None:
    _conn(session).execute(_q().give_slot, {"tid": task_pk})


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
        assignment=select(*a_cols, Task.task_id.label("task_name"), Task.kind)
        .join(Task, Task.id == Assignment.task_id).where(Assignment.id == bindparam("aid")),
        unfinished=select(*a_cols).where(Assignment.annotator_id == me, Assignment.labelled == false())
        .order_by(Assignment.id).limit(1),
        task=select(*t_cols).where(Task.id == bindparam("tid")),
        # SKIP LOCKED (PostgreSQL; SQLite serialises writers and ignores it): concurrent claimers each take another
        # open task instead of queueing on the first one's row lock and re-checking it (seconds at 50 annotators)
        claim=select(*t_cols).where(Task.is_open == true(), _not_mine(me)).order_by(Task.priority, Task.id).limit(1)
        .with_for_update(skip_locked=True, of=Task),
        # ... and when every open task is locked by someone, the plain form: wait on the row and re-check, so
        # nobody is told "done" while a slot may still be free
        claim_wait=select(*t_cols).where(Task.is_open == true(), _not_mine(me)).order_by(Task.priority, Task.id)
        .limit(1),
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


def _assign(session, annotator_id: int, task, holds_slot: bool):
    order = shown_order(annotator_id, task)
    new_id = _conn(session).execute(_q().add_assignment, dict(
        task_id=task.id, annotator_id=annotator_id, shown_order=order, holds_slot=holds_slot, labelled=False,
        served_at=datetime.now(timezone.utc))).inserted_primary_key[0]
    return SimpleNamespace(id=new_id, task_id=task.id, shown_order=order, holds_slot=holds_slot)


def next_assignment(session, annotator_id: int, config: LabelConfig, rng: random.Random | None = None):
    """The annotator's unfinished assignment, else a newly claimed one; ``(assignment, task)`` or None when done."""
    q, me, c = _q(), {"me": annotator_id}, _conn(session)
    a = c.execute(q.unfinished, me).first()
    if a is not None:
        return a, c.execute(q.task, {"tid": a.task_id}).one()
    if (rng or random).random() < config.gold_fraction:
        gold = c.execute(q.gold, me).first()
        if gold is not None:
            return _assign(session, annotator_id, gold, holds_slot=False), gold
    for attempt in range(20):  # a lost race (PostgreSQL only) just means: look again
        task = c.execute(q.claim, me).first()
        if task is None and c.dialect.name != "sqlite":
            task = c.execute(q.claim_wait, me).first()
        if task is None:
            # before saying "done": free reservations that expired, so nobody is told "done" while work waits
            if attempt == 0 and expire_stale(session, config.reservation_minutes):
                continue
            return None
        if _take_slot(session, task.id):
            return _assign(session, annotator_id, task, holds_slot=True), task
    return None


def _check(body: LabelRequest, a, config: LabelConfig) -> records.Label:
    """The label as a ``records.Label`` (its rules: best only with outcome best, no edit/ratings on all bad or
    skip, an edit rewrites the chosen reply), plus the app's: ids of this task, only asked criteria, ratings only
    where the page shows them, and the ratings the settings require."""
    ids = list(a.shown_order)
    try:
        label = records.Label(task_id=body.task_id, annotator="annotator", source="human", outcome=body.outcome,
                              best=body.best, ratings=body.ratings, edit=body.edit, shown_order=ids)
    except ValidationError as e:
        raise LabelRejected(e.errors()[0]["msg"].removeprefix("Value error, ")) from None
    if label.best is not None and label.best not in ids:
        raise LabelRejected(f"best {label.best!r} is not a candidate of this task")
    comparison = a.kind == "model-comparison"
    rate_all = config.rate_all or comparison
    for cand_id, scores in label.ratings.items():
        if cand_id not in ids:
            raise LabelRejected(f"ratings: {cand_id!r} is not a candidate of this task")
        if not rate_all and cand_id != label.best:
            raise LabelRejected(f"ratings: only the chosen reply is rated here, not {cand_id!r}")
        asked = [c for c in records.CRITERIA if getattr(scores, c) is not None and c not in config.criteria]
        if asked:
            raise LabelRejected(f"ratings[{cand_id!r}]: criterion {asked[0]!r} is not asked here")
    must_rate = ids if comparison and label.outcome in ("best", "tie") else \
        (ids if rate_all else [label.best]) if config.ratings_required and label.outcome == "best" else []
    for cand_id in must_rate if config.criteria else []:
        scores = label.ratings.get(cand_id)
        missing = [c for c in config.criteria if scores is None or getattr(scores, c) is None]
        if missing:
            raise LabelRejected(f"rate reply {ids.index(cand_id) + 1} for {missing}")
    return label


def _seconds(body: LabelRequest, served_at: datetime) -> float:
    """The page's own measure of time on the task; the server's (since serving) when absent or over a day."""
    if body.seconds is not None and body.seconds <= 86400:
        return float(body.seconds)
    served = served_at if served_at.tzinfo else served_at.replace(tzinfo=timezone.utc)
    return (datetime.now(timezone.utc) - served).total_seconds()


def submit(session, annotator_id: int, body: LabelRequest, config: LabelConfig) -> tuple[int, bool]:
    """Store the label of one of the annotator's assignments; ``(label_id, created)``. A repeated submission of
    the same assignment (a retry after a lost answer) returns the stored label's id and ``created=False``."""
    q, c = _q(), _conn(session)
    a = c.execute(q.assignment, {"aid": body.assignment_id}).first()
    if a is None or a.annotator_id != annotator_id:
        raise NotYours("this task's reservation expired (or is not yours), so the label was not saved")
    if a.task_name != body.task_id:
        raise OtherTask(f"assignment {a.id} is for another task than {body.task_id!r}: the label was not saved")
    if a.labelled:
        return c.execute(q.label_of, {"aid": a.id}).scalar(), False
    label = _check(body, a, config)
    edit = None if label.edit is None else {"cand_id": label.edit.cand_id, "text": label.edit.text.strip()}
    label_id = c.execute(q.add_label, dict(
        assignment_id=a.id, task_id=a.task_id, annotator_id=annotator_id, shown_order=a.shown_order,
        outcome=label.outcome, best=label.best, ratings=label.to_json()["ratings"], edit=edit,
        seconds=_seconds(body, a.served_at), created_at=datetime.now(timezone.utc))).inserted_primary_key[0]
    release = label.outcome == "skip" and a.holds_slot  # a skip is no judgement: hand the slot to someone else
    c.execute(q.finish, {"aid": a.id, "holds": a.holds_slot and not release})
    if release:
        _give_slot(session, a.task_id)
    return label_id, True


def _newest_label(c, annotator_id: int):
    """The annotator's newest label that undo may take back (live-chat choices go only with their conversation)."""
    return c.execute(select(Label.id, Label.assignment_id, Label.outcome, Label.best, Label.ratings, Label.edit,
                            Assignment.holds_slot, Task.id.label("task_pk"), Task.task_id, Task.quota)
                     .join(Assignment, Assignment.id == Label.assignment_id).join(Task, Task.id == Label.task_id)
                     .where(Label.annotator_id == annotator_id, Task.kind != "live-chat")
                     .order_by(Label.id.desc()).limit(1)).first()


def newest_label(session, annotator_id: int) -> dict | None:
    """What undo would take back: its task_id and the answer (outcome, best, ratings, edit), or None. The page
    shows the task again with this answer selected."""
    row = _newest_label(_conn(session), annotator_id)
    return None if row is None else {"task_id": row.task_id, "outcome": row.outcome, "best": row.best,
                                     "ratings": row.ratings or {}, "edit": row.edit}


def undo(session, annotator_id: int) -> str | None:
    """Delete the annotator's newest label; its task becomes their current one again. Returns its task_id."""
    c = _conn(session)
    row = _newest_label(c, annotator_id)
    if row is None:
        return None
    c.execute(delete(Label).where(Label.id == row.id))
    holds = row.holds_slot
    if not holds and row.quota is not None:  # an undone skip must win its slot back
        holds = _take_slot(session, row.task_pk)
        if not holds:  # the task filled up meanwhile
            c.execute(delete(Assignment).where(Assignment.id == row.assignment_id))
            return row.task_id
    c.execute(update(Assignment).where(Assignment.id == row.assignment_id).values(labelled=False, holds_slot=holds))
    return row.task_id


def expire_stale(session, minutes: float) -> int:
    """Release assignments served longer than ``minutes`` ago and never labelled (an annotator who left)."""
    cutoff = datetime.now(timezone.utc) - timedelta(minutes=minutes)
    stale = session.execute(select(Assignment.id, Assignment.task_id, Assignment.holds_slot)
                      .where(Assignment.labelled == false(), Assignment.served_at < cutoff)).all()
    released = 0
    for aid, task_pk, holds in stale:
        # Only the request whose DELETE removed the row gives its slot back: two requests releasing the same
        # reservation at once (PostgreSQL, READ COMMITTED) both saw it, but the second deletes nothing; one that
        # was labelled meanwhile is not deleted either.
        gone = session.execute(delete(Assignment).where(Assignment.id == aid, Assignment.labelled == false())).rowcount
        if gone and holds:
            _give_slot(session, task_pk)
        released += gone
    return released


def progress(session, annotator_id: int) -> dict:
    """Labels done, and tasks left for this annotator (their unfinished ones plus open ones, counted up to a cap);
    one statement, since it runs on every label."""
    done, current, left = _conn(session).execute(_q().progress, {"me": annotator_id}).one()
    return {"done": done, "left": left + current, "left_capped": left >= PROGRESS_CAP}


def release_all(session, annotator_id: int) -> int:
    """Drop all of an annotator's unlabelled assignments, giving their slots back (someone removed)."""
    rows = session.execute(select(Assignment.id, Assignment.task_id, Assignment.holds_slot)
                     .where(Assignment.annotator_id == annotator_id)).all()
    released = 0
    for aid, task_pk, holds in rows:
        gone = session.execute(delete(Assignment).where(Assignment.id == aid)).rowcount  # see expire_stale
        if gone and holds:
            _give_slot(session, task_pk)
        released += gone
    return released
