"""The database layer: migrations match the models, SQLite runs in WAL, quotas hold under concurrency (SQLite and,
where its binaries exist, PostgreSQL), and import is idempotent."""

from __future__ import annotations

import pytest
from label_helpers import hammer, make_tasks, sqlite_at_revision, write_tasks

from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.label.tasks import import_tasks


def test_migration_creates_exactly_the_models(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from empathic_rlhf.label.models import Base

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_sqlite_is_in_wal_mode_and_migrating_twice_is_harmless(store):
    from empathic_rlhf.label.db import migrate

    migrate(store.engine)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL: enough for a killed process
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == _head()


def _head() -> str:
    """The newest migration (helpers add revisions in parallel: the test names none of them)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from empathic_rlhf.label.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_import_is_idempotent_and_validates(store, cfg, tmp_path):
    path = write_tasks(tmp_path / "t.jsonl", make_tasks(5))
    first, second = import_tasks(store, path, cfg), import_tasks(store, path, cfg)
    assert (first.added, second.added, second.unchanged) == (5, 0, 5)
    changed = make_tasks(5)
    changed[0]["candidates"][0]["text"] = "something else"
    r = import_tasks(store, write_tasks(tmp_path / "t2.jsonl", changed + make_tasks(1, prefix="new")), cfg)
    assert (r.added, r.unchanged, r.differing) == (1, 4, 1)
    bad = make_tasks(2)
    bad[1]["candidates"] = bad[1]["candidates"][:1]
    with pytest.raises(EmpathicError, match=r"bad.jsonl:2: Task field 'candidates': List should have at least 2 items"):
        import_tasks(store, write_tasks(tmp_path / "bad.jsonl", bad), cfg)


def test_quota_holds_under_concurrent_annotators_sqlite(store, cfg, tmp_path):
    cfg.overlap = 2
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(30)), cfg)
    out = hammer(store, cfg, n_annotators=8)
    assert out["errors"] == []
    assert out["per_task"] == {t: 2 for t in out["quota"]}  # every task exactly at quota, none over
    assert out["dup_pairs"] == 0 and set(out["remaining"]) == {0}


def test_quota_holds_under_concurrent_annotators_postgres(postgres_url, cfg, tmp_path):
    from empathic_rlhf.label.db import Store

    store = Store(postgres_url)
    try:
        cfg.overlap = 3
        import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(25)), cfg)
        assert import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(25)), cfg).added == 0
        out = hammer(store, cfg, n_annotators=10)
        assert out["errors"] == []
        assert out["per_task"] == {t: 3 for t in out["quota"]}
        assert out["dup_pairs"] == 0 and set(out["remaining"]) == {0}
    finally:
        store.close()


def test_http_api_on_postgres(postgres_url, cfg, tmp_path):
    """The same routes on PostgreSQL (there the DB work runs in the thread pool, not on the event loop)."""
    from fastapi.testclient import TestClient
    from label_helpers import auth
    from sqlalchemy import create_engine

    from empathic_rlhf.label.app import create_app
    from empathic_rlhf.label.auth import invite
    from empathic_rlhf.label.db import Store

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("CREATE DATABASE feedback_http")
    admin.dispose()
    store = Store(postgres_url.rsplit("/", 1)[0] + "/feedback_http")
    try:
        import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(3)), cfg)
        tok, other = invite(store, "ann"), invite(store, "bob")
        with TestClient(create_app(store, cfg)) as client:
            assert client.get("/api/next").status_code == 401
            nxt = client.get("/api/next", headers=auth(tok)).json()
            best = nxt["task"]["candidates"][0]["cand_id"]
            r = client.post("/api/labels", headers=auth(tok), json={
                "assignment_id": nxt["assignment_id"], "task_id": nxt["task"]["task_id"], "outcome": "best", "best": best, "ratings": {best: {"empathy": 2}}})
            assert r.status_code == 200 and r.json()["next"]["progress"]["done"] == 1
            assert client.get(f"/api/labels/{r.json()['label_id']}", headers=auth(other)).status_code == 404
            assert client.post("/api/undo", headers=auth(tok)).json()["undone"] == nxt["task"]["task_id"]
            assert client.get("/api/labels", headers=auth(tok)).json()["labels"] == []
    finally:
        store.close()


def test_upgrade_from_0001_keeps_rows_and_stops_id_reuse(tmp_path, cfg):
    """A database made before migration 0002 keeps its rows, and afterwards a deleted highest id is not reused."""
    from sqlalchemy import text

    from empathic_rlhf.label import assign
    from empathic_rlhf.label.db import Store

    url = sqlite_at_revision(tmp_path / "old.db", "0001")
    store = Store(url, upgrade=False)
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(3)), cfg)
    with store.tx() as s:  # raw SQL: the ORM model has columns later migrations add (annotators.kind)
        s.execute(text("INSERT INTO annotators (name, token_hash, is_admin, created_at) "
                       "VALUES ('a', 'h', 0, '2026-01-01')"))
    with store.tx() as s:
        first = assign.next_assignment(s, 1, cfg)[0].id
    store.close()
    store = Store(url)  # migrates to 0002
    try:
        with store.tx() as s:
            assert s.execute(text("SELECT count(*) FROM assignments")).scalar() == 1
            assert "AUTOINCREMENT" in s.execute(text("SELECT sql FROM sqlite_master WHERE name = 'assignments'")
                                                ).scalar()
            assert assign.expire_stale(s, minutes=-1) == 1
        with store.tx() as s:
            assert assign.next_assignment(s, 1, cfg)[0].id == first + 1
    finally:
        store.close()
