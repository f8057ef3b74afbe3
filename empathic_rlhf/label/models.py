"""Database tables. The invariants live here as constraints, so they hold whatever process writes:

- a task never has more active assignments than its quota: ``tasks.remaining`` is decremented by a conditional
  UPDATE (``WHERE remaining > 0``) in the same transaction that inserts the assignment, and CHECK(remaining >= 0);
- an annotator gets a task at most once: UNIQUE(task_id, annotator_id) on assignments;
- an assignment carries at most one label: UNIQUE(assignment_id) on labels;
- assignment and label ids are never reused (AUTOINCREMENT on SQLite, sequences on PostgreSQL), so an old id
  can only ever name the work it was issued for.

The Alembic migration in ``migrations/versions`` creates exactly these tables (a test compares the two).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (JSON, Boolean, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


HUMAN = "human"  # Annotator.kind of a person


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    record: Mapped[dict] = mapped_column(JSON)  # the Task record as imported (docs/design.md, "Records")
    gold_best: Mapped[str | None] = mapped_column(String(200), nullable=True)  # known answer of a gold task
    quota: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None for gold tasks: everyone may do them
    remaining: Mapped[int | None] = mapped_column(Integer, nullable=True)  # free slots; None for gold tasks
    is_open: Mapped[bool] = mapped_column(Boolean)  # remaining > 0, kept as a column so the claim uses an index
    priority: Mapped[int] = mapped_column(Integer)  # 0 calibration (served first), 1 ordinary
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (
        CheckConstraint("remaining IS NULL OR remaining >= 0", name="ck_tasks_remaining_nonneg"),
        Index("ix_tasks_claim", "is_open", "priority", "id"),
    )


class Annotator(Base):
    __tablename__ = "annotators"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the invite token; never the token
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # "human", or "synthetic:<oracle>" for a simulated annotator (label/simulate.py); exports take a label's
    # source from here, so a simulated annotator's labels can never be written as human ones
    kind: Mapped[str] = mapped_column(String(300), default=HUMAN, server_default=HUMAN)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Assignment(Base):
    """A task reserved for one annotator. ``holds_slot`` is False once released (a skip): it then no longer counts
    against the quota but still stops the annotator from getting the task again."""
    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"))
    shown_order: Mapped[list] = mapped_column(JSON)
    holds_slot: Mapped[bool] = mapped_column(Boolean)
    labelled: Mapped[bool] = mapped_column(Boolean, default=False)
    served_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (
        UniqueConstraint("task_id", "annotator_id", name="uq_assignment_task_annotator"),
        Index("ix_assignments_open", "annotator_id", "labelled"),
        Index("ix_assignments_stale", "labelled", "served_at"),
        {"sqlite_autoincrement": True},  # ids are never reused: a stale tab's id cannot name a newer assignment
    )


class Label(Base):
    __tablename__ = "labels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), unique=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(10))  # best | tie | all_bad | skip
    best: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ratings: Mapped[dict] = mapped_column(JSON)
    edit: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    shown_order: Mapped[list] = mapped_column(JSON)
    seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (
        CheckConstraint("outcome IN ('best', 'tie', 'all_bad', 'skip')", name="ck_labels_outcome"),
        {"sqlite_autoincrement": True},
    )


class Chat(Base):
    """One live conversation of an invited person with the policy (``routes/chat.py``). It exists only once the
    person consented: ``consent_version`` names the consent text they agreed to."""
    __tablename__ = "chats"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), index=True)
    consent_version: Mapped[str] = mapped_column(String(20))
    consented_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = ({"sqlite_autoincrement": True},)  # a deleted chat's id (and its task ids) never come back


class ChatTurn(Base):
    """A turn of a conversation; an assistant turn picked from candidates names the live-chat task it made."""
    __tablename__ = "chat_turns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id"))
    idx: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(10))  # user | assistant
    text: Mapped[str] = mapped_column(Text)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (
        UniqueConstraint("chat_id", "idx", name="uq_chat_turns_chat_idx"),
        CheckConstraint("role IN ('user', 'assistant')", name="ck_chat_turns_role"),
    )


class ChatJob(Base):
    """A policy reply to produce: the queue between the web server (inserts) and ``label worker`` (claims).

    status: queued -> running (a worker claimed it) -> done (k = 1: the reply is a turn) or ready (k > 1: the
    candidates wait for the person's choice) -> done; failed when generation raised. One job per reply slot:
    UNIQUE(chat_id, turn_idx). ``attempts`` counts claims, so a worker whose claim timed out and was taken over
    cannot write back over the newer claim."""
    __tablename__ = "chat_jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id"))
    turn_idx: Mapped[int] = mapped_column(Integer)
    k: Mapped[int] = mapped_column(Integer)
    prompt: Mapped[list] = mapped_column(JSON)  # the messages exactly as the policy sees them
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(100), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    candidates: Mapped[list | None] = mapped_column(JSON, nullable=True)  # reply texts
    source: Mapped[str | None] = mapped_column(String(300), nullable=True)  # the policy that wrote them
    sampling: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (
        UniqueConstraint("chat_id", "turn_idx", name="uq_chat_jobs_chat_turn"),
        CheckConstraint("status IN ('queued', 'running', 'ready', 'done', 'failed')", name="ck_chat_jobs_status"),
        Index("ix_chat_jobs_claim", "status", "id"),
        {"sqlite_autoincrement": True},
    )
