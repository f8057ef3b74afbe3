"""The reply-job queue between the server and the workers: a job is claimed once, a timed-out claim is taken over
and the slow worker's late answer is dropped, and workers racing on the same queue never claim a job twice
(SQLite: BEGIN IMMEDIATE; PostgreSQL, where its binaries exist: FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from empathic_rlhf.label import chat_store
from empathic_rlhf.label.auth import invite
from empathic_rlhf.label.config import LabelConfig
from empathic_rlhf.label.db import Store
from empathic_rlhf.label.models import Annotator, ChatJob

CFG = LabelConfig(chat_enabled=True, chat_choice_every=1, chat_candidates=2)


def queue_jobs(store, n: int) -> list[int]:
    """``n`` conversations, each with one queued reply job; returns the job ids."""
    invite(store, "ann")
    with store.tx() as s:
        me = s.scalar(select(Annotator.id).where(Annotator.name == "ann"))
    with store.core() as c:
        for i in range(n):
            chat_id = chat_store.start_chat(c, me, True, chat_store.CONSENT_VERSION)
            chat_store.add_message(c, me, chat_id, f"message {i}", CFG)
    with store.read() as s:
        return list(s.scalars(select(ChatJob.id).order_by(ChatJob.id)))


def test_a_job_is_claimed_once_and_a_timed_out_claim_is_taken_over(store):
    ids = queue_jobs(store, 3)
    first = chat_store.claim_jobs(store, "a", 2, timeout_s=60)
    assert [j.id for j in first] == ids[:2] and {j.status for j in first} == {"running"}
    rest = chat_store.claim_jobs(store, "b", 10, timeout_s=60)
    assert [j.id for j in rest] == ids[2:]
    assert chat_store.claim_jobs(store, "b", 10, timeout_s=60) == []
    assert chat_store.has_work(store, 60) is False

    # worker a died (as far as anyone can tell): with a zero timeout its claims are stale and b takes them over
    assert chat_store.has_work(store, 0) is True
    taken = [j for j in chat_store.claim_jobs(store, "b", 10, timeout_s=0) if j.id in ids[:2]]
    assert [(j.worker, j.attempts) for j in taken] == [("b", 2), ("b", 2)]
    assert chat_store.finish_job(store, first[0], ["late", "answer"], "p", {}) is False  # a's old claim
    assert chat_store.finish_job(store, taken[0], ["fresh", "answer"], "p", {}) is True
    with store.read() as s:
        assert s.execute(select(ChatJob.status, ChatJob.candidates).where(ChatJob.id == ids[0])).one() == \
            ("ready", ["fresh", "answer"])


def race(url: str, n_jobs: int, n_workers: int = 4) -> tuple[list[int], list[list[int]], list[str]]:
    """Workers (threads, each with its own engine, as separate processes would have) claim in small batches
    until the queue is empty; returns (job ids, what each claimed, errors)."""
    setup = Store(url)
    ids = queue_jobs(setup, n_jobs)
    setup.close()
    stores = [Store(url, upgrade=False) for _ in range(n_workers)]
    claimed: list[list[int]] = [[] for _ in range(n_workers)]
    errors: list[str] = []
    start = threading.Barrier(n_workers)

    def work(i):
        try:
            start.wait()
            while True:
                jobs = chat_store.claim_jobs(stores[i], f"w{i}", 3, timeout_s=600)
                if not jobs:
                    return
                claimed[i] += [j.id for j in jobs]
                time.sleep(0.02)  # "generating": the others claim meanwhile, as real workers would
                for job in jobs:
                    chat_store.finish_job(stores[i], job, ["x", "y"], f"w{i}", {})
        except Exception as e:  # noqa: BLE001 - reported by the test
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    return ids, claimed, errors


def test_workers_racing_on_sqlite_never_claim_a_job_twice(tmp_path):
    ids, claimed, errors = race(f"sqlite:///{tmp_path / 'race.db'}", 60)
    everything = [j for part in claimed for j in part]
    assert errors == []
    assert sorted(everything) == ids  # every job once: none lost, none twice
    assert sum(1 for part in claimed if part) >= 2  # the work really was shared


def test_workers_racing_on_postgresql_never_claim_a_job_twice(postgres_url):
    fresh_schema(postgres_url)  # the server is shared by the session's tests: start and leave it empty
    try:
        ids, claimed, errors = race(postgres_url, 60)
    finally:
        fresh_schema(postgres_url)
    everything = [j for part in claimed for j in part]
    assert errors == []
    assert sorted(everything) == ids
    assert sum(1 for part in claimed if part) >= 2


def fresh_schema(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'queue.db'}")
    yield s
    s.close()
