"""The live chat in the database: conversations, the reply-job queue, choices as comparison tasks, deletion.

The web server and ``label worker`` share nothing but these tables. The server inserts a job per policy reply
(``add_message``); a worker claims queued jobs (``claim_jobs``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two
workers never take the same job; on SQLite the claim is one ``BEGIN IMMEDIATE`` transaction, which serialises
claimers), generates, and writes the replies back (``finish_job``). A reply of one candidate becomes the next turn
at once; a reply of k > 1 candidates waits for the person's choice (``choose``), which is stored as a live-chat
comparison Task + Assignment + Label in the labelling tables, so ``label export`` carries it like any label.

Every server function takes the Core connection of the caller's transaction and the annotator's id; a chat that
is not the annotator's is indistinguishable from none (``NotFound``).
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy import bindparam, delete, func, insert, or_, select, update

from .. import records
from ..chat.session import ChatSession
from .config import LabelConfig
from .models import Assignment, Chat, ChatJob, ChatTurn, Label, Task
from .text import neutralise

CONSENT_VERSION = "1"  # the consent text in static/chat.html carries the same version (a test checks)
PENDING = ("queued", "running", "ready", "failed")  # a reply slot not filled yet: the person cannot write


class ChatError(Exception):
    status = 400


class NotFound(ChatError):
    status = 404


class Conflict(ChatError):
    """The request does not fit the conversation's state (a reply is pending, the choice was made): HTTP 409."""
    status = 409


class Rejected(ChatError):
    status = 422


def _now() -> datetime:
    return datetime.now(timezone.utc)


@functools.cache
def _q() -> SimpleNamespace:
    chat, me = bindparam("chat"), bindparam("me")
    return SimpleNamespace(
        chat=select(Chat.id).where(Chat.id == chat, Chat.annotator_id == me),
        turns=select(ChatTurn.idx, ChatTurn.role, ChatTurn.text).where(ChatTurn.chat_id == chat)
        .order_by(ChatTurn.idx),
        open_job=select(ChatJob.__table__).where(ChatJob.chat_id == chat, ChatJob.status.in_(PENDING))
        .order_by(ChatJob.id.desc()).limit(1),
        queued_before=select(func.count()).select_from(ChatJob)
        .where(ChatJob.status == "queued", ChatJob.id < bindparam("job")),
    )


def _own_chat(c, annotator_id: int, chat_id: int) -> None:
    if c.execute(_q().chat, {"chat": chat_id, "me": annotator_id}).first() is None:
        raise NotFound("no such conversation")


def start_chat(c, annotator_id: int, consent: bool, consent_version: str) -> int:
    """A new conversation; only with the person's consent to the current consent text."""
    if consent is not True:
        raise Rejected("a conversation starts only after you agree to the consent text")
    if consent_version != CONSENT_VERSION:
        raise Conflict("the consent text changed since this page was loaded: reload the page and read it again")
    return c.execute(insert(Chat).values(annotator_id=annotator_id, consent_version=consent_version,
                                         consented_at=_now())).inserted_primary_key[0]


def list_chats(c, annotator_id: int) -> list[dict]:
    first = (select(ChatTurn.text).where(ChatTurn.chat_id == Chat.id, ChatTurn.idx == 0)
             .correlate(Chat).scalar_subquery())
    turns = select(func.count()).select_from(ChatTurn).where(ChatTurn.chat_id == Chat.id).correlate(Chat)
    rows = c.execute(select(Chat.id, Chat.consented_at, first.label("first"), turns.scalar_subquery().label("n"))
                     .where(Chat.annotator_id == annotator_id).order_by(Chat.id.desc())).all()
    return [{"chat_id": r.id, "started": _iso(r.consented_at), "turns": r.n,
             "preview": neutralise((r.first or "")[:80])} for r in rows]


def _iso(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()


def chat_view(c, annotator_id: int, chat_id: int) -> dict:
    """The conversation as the page shows it, and the reply being produced (if any)."""
    _own_chat(c, annotator_id, chat_id)
    q = _q()
    turns = [{"role": t.role, "text": neutralise(t.text)} for t in c.execute(q.turns, {"chat": chat_id})]
    job = c.execute(q.open_job, {"chat": chat_id}).first()
    return {"chat_id": chat_id, "turns": turns, "pending": None if job is None else _job_view(c, job)}


def _job_view(c, job) -> dict:
    view = {"job_id": job.id, "status": job.status, "k": job.k}
    if job.status == "queued":
        view["ahead"] = c.execute(_q().queued_before, {"job": job.id}).scalar()  # jobs queued before this one
    if job.status == "ready":
        view["candidates"] = [{"cand_id": f"c{i}", "text": neutralise(t)} for i, t in enumerate(job.candidates)]
    if job.status == "failed":
        view["error"] = neutralise(job.error)  # an exception's text: it may quote the conversation
    return view


def reply_width(n_replies_before: int, config: LabelConfig) -> int:
    """Candidates for the next policy reply: every ``chat_choice_every``-th reply is a choice."""
    return config.chat_candidates if (n_replies_before + 1) % config.chat_choice_every == 0 else 1


def policy_context(turns: list[dict], config: LabelConfig) -> list[dict]:
    """The messages the policy sees: built as the terminal chat builds them (``ChatSession.messages``)."""
    session = ChatSession(reply_fn=lambda messages: "", max_turns=config.chat_max_turns)
    session.history = [{"role": t["role"], "content": t["text"]} for t in turns]
    return session.messages()


def add_message(c, annotator_id: int, chat_id: int, text: str, config: LabelConfig) -> dict:
    """Store the person's message and queue the policy's reply; returns the chat view."""
    _own_chat(c, annotator_id, chat_id)
    text = text.strip()
    if not text:
        raise Rejected("write something first")
    if len(text) > config.chat_message_chars:
        raise Rejected(f"a message holds at most {config.chat_message_chars} characters")
    if "\x00" in text:
        raise Rejected("the message contains a NUL character")
    q = _q()
    if c.execute(q.open_job, {"chat": chat_id}).first() is not None:
        raise Conflict("wait for the reply (or make the choice) before writing again")
    turns = [dict(t._mapping) for t in c.execute(q.turns, {"chat": chat_id})]
    if sum(t["role"] == "user" for t in turns) >= config.chat_max_messages:
        raise Conflict(f"this conversation reached {config.chat_max_messages} messages: start a new one")
    turns.append({"idx": len(turns), "role": "user", "text": text})
    c.execute(insert(ChatTurn).values(chat_id=chat_id, idx=len(turns) - 1, role="user", text=text, created_at=_now()))
    k = reply_width(sum(t["role"] == "assistant" for t in turns), config)
    c.execute(insert(ChatJob).values(chat_id=chat_id, turn_idx=len(turns), k=k, prompt=policy_context(turns, config),
                                     status="queued", attempts=0, created_at=_now()))
    return chat_view(c, annotator_id, chat_id)


def retry(c, annotator_id: int, chat_id: int) -> dict:
    """Queue a failed reply again."""
    _own_chat(c, annotator_id, chat_id)
    job = c.execute(_q().open_job, {"chat": chat_id}).first()
    if job is None or job.status != "failed":
        raise Conflict("no failed reply to try again")
    c.execute(update(ChatJob).where(ChatJob.id == job.id).values(status="queued", error=None))
    return chat_view(c, annotator_id, chat_id)


def live_chat_task(chat_id: int, job) -> records.Task:
    """The comparison task of one choice: the real conversation as the policy saw it, the policy's candidates."""
    prompt = [records.Message(**m) for m in job.prompt]
    return records.Task(
        task_id=f"chat:{chat_id}:{job.turn_idx}", kind="live-chat", conv_id=f"chat:{chat_id}", prompt=prompt,
        history=records.display_history(prompt), sampling={**(job.sampling or {}), "worker": job.worker},
        candidates=[records.Candidate(cand_id=f"c{i}", text=t, source=job.source or "policy")
                    for i, t in enumerate(job.candidates)])


def choose(c, annotator_id: int, chat_id: int, job_id: int, best: str, seconds: float | None) -> dict:
    """The person's pick among a reply's candidates: stored as a live-chat Task with the person's Label (the
    same tables the labelling app uses), and the chosen reply becomes the conversation's next turn."""
    _own_chat(c, annotator_id, chat_id)
    job = c.execute(select(ChatJob.__table__).where(ChatJob.id == job_id, ChatJob.chat_id == chat_id)).first()
    if job is None:
        raise NotFound("no such reply")
    if job.status == "done":
        return {**chat_view(c, annotator_id, chat_id), "created": False}  # a retried request: already stored
    if job.status != "ready":
        raise Conflict("these replies are not ready to choose from")
    task = live_chat_task(chat_id, job)
    ids = [cand.cand_id for cand in task.candidates]
    if best not in ids:
        raise Rejected(f"best must be one of {ids}")
    now = _now()
    task_pk = c.execute(insert(Task).values(  # one annotator, already done: never served by the labelling page
        task_id=task.task_id, kind=task.kind, record=task.to_json(), gold_best=None, quota=1, remaining=0,
        is_open=False, priority=1, created_at=now)).inserted_primary_key[0]
    assignment = c.execute(insert(Assignment).values(
        task_id=task_pk, annotator_id=annotator_id, shown_order=ids, holds_slot=True, labelled=True,
        served_at=now)).inserted_primary_key[0]
    label = records.Label(task_id=task.task_id, annotator="annotator", source="human", outcome="best", best=best,
                          shown_order=ids)
    took = seconds if seconds is not None and 0 <= seconds <= 86400 else (now - _ready_at(job)).total_seconds()
    c.execute(insert(Label).values(assignment_id=assignment, task_id=task_pk, annotator_id=annotator_id,
                                   outcome=label.outcome, best=label.best, ratings={}, edit=None, shown_order=ids,
                                   seconds=float(took), created_at=now))
    c.execute(insert(ChatTurn).values(chat_id=chat_id, idx=job.turn_idx, role="assistant", text=task.text_of(best),
                                      task_id=task_pk, created_at=now))
    c.execute(update(ChatJob).where(ChatJob.id == job.id).values(status="done"))
    return {**chat_view(c, annotator_id, chat_id), "created": True}


def _ready_at(job) -> datetime:
    """When the candidates were ready: the server's measure of the time a choice took, if the page sent none."""
    at = job.finished_at or job.created_at
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def delete_chats(c, annotator_id: int, chat_id: int | None = None) -> dict:
    """Delete one of the person's conversations (or all with ``chat_id=None``) with its turns, jobs, and the
    live-chat tasks, assignments and labels its choices made. Returns what was deleted."""
    mine = select(Chat.id).where(Chat.annotator_id == annotator_id)
    if chat_id is not None:
        _own_chat(c, annotator_id, chat_id)
        mine = mine.where(Chat.id == chat_id)
    chat_ids = list(c.execute(mine).scalars())
    if not chat_ids:
        return {"chats": 0, "labels": 0, "tasks": 0}
    task_pks = list(c.execute(select(ChatTurn.task_id).where(ChatTurn.chat_id.in_(chat_ids),
                                                             ChatTurn.task_id.is_not(None))).scalars())
    labels = c.execute(delete(Label).where(Label.task_id.in_(task_pks))).rowcount if task_pks else 0
    if task_pks:
        c.execute(delete(Assignment).where(Assignment.task_id.in_(task_pks)))
    c.execute(delete(ChatTurn).where(ChatTurn.chat_id.in_(chat_ids)))
    c.execute(delete(ChatJob).where(ChatJob.chat_id.in_(chat_ids)))
    tasks = c.execute(delete(Task).where(Task.id.in_(task_pks))).rowcount if task_pks else 0
    c.execute(delete(Chat).where(Chat.id.in_(chat_ids)))
    return {"chats": len(chat_ids), "labels": labels, "tasks": tasks}


# --- the worker's side ---------------------------------------------------------------------------------------

def _claimable(timeout_s: float):
    stale = _now() - timedelta(seconds=timeout_s)
    return or_(ChatJob.status == "queued", (ChatJob.status == "running") & (ChatJob.claimed_at < stale))


def has_work(store, timeout_s: float) -> bool:
    """Whether any job waits, read without a write lock (a worker polls this; it claims only when true)."""
    with store.read() as s:
        return s.execute(select(ChatJob.id).where(_claimable(timeout_s)).limit(1)).first() is not None


def claim_jobs(store, worker: str, limit: int, timeout_s: float) -> list:
    """Claim up to ``limit`` jobs, oldest first (queued ones, and running ones whose worker timed out). Each job
    is claimed by exactly one worker: PostgreSQL skips rows another claimer holds; SQLite runs the whole claim in
    one BEGIN IMMEDIATE transaction."""
    with store.core() as c:
        ids = list(c.execute(select(ChatJob.id).where(_claimable(timeout_s)).order_by(ChatJob.id).limit(limit)
                             .with_for_update(skip_locked=True)).scalars())
        if not ids:
            return []
        c.execute(update(ChatJob).where(ChatJob.id.in_(ids)).values(
            status="running", worker=worker, claimed_at=_now(), attempts=ChatJob.attempts + 1))
        return c.execute(select(ChatJob.__table__).where(ChatJob.id.in_(ids)).order_by(ChatJob.id)).all()


def finish_job(store, job, texts: list[str], source: str, sampling: dict) -> bool:
    """Write a claimed job's replies back: one reply becomes the next turn, several wait for the choice. False
    (nothing written) when the job is no longer this claim's: deleted with its chat, or taken over after a
    timeout."""
    now = _now()
    with store.core() as c:
        status = "done" if job.k == 1 else "ready"
        won = c.execute(update(ChatJob).where(ChatJob.id == job.id, ChatJob.status == "running",
                                              ChatJob.attempts == job.attempts)
                        .values(status=status, candidates=list(texts), source=source[:300], sampling=sampling,
                                finished_at=now)).rowcount == 1
        if won and job.k == 1:
            c.execute(insert(ChatTurn).values(chat_id=job.chat_id, idx=job.turn_idx, role="assistant",
                                              text=texts[0], created_at=now))
        return won


def fail_job(store, job, error: str) -> bool:
    with store.core() as c:
        return c.execute(update(ChatJob).where(ChatJob.id == job.id, ChatJob.status == "running",
                                               ChatJob.attempts == job.attempts)
                         .values(status="failed", error=error[:500], finished_at=_now())).rowcount == 1
