"""Engine, schema migrations and the one way to open a transaction: ``with store.tx() as session: ...``.

SQLite is tuned for a single server process with many request threads:
- WAL, so readers (the admin page, ``label export``) never block the writer and a killed process loses nothing
  that was committed (with ``synchronous=NORMAL`` a commit is in the OS page cache before the answer leaves,
  which survives the process; ``FULL`` adds an fsync per commit for power loss: LabelConfig.sqlite_synchronous);
- ``BEGIN IMMEDIATE`` for every transaction, so two transactions never both read and then both try to upgrade to
  a write lock (SQLite would fail one at once with SQLITE_BUSY instead of waiting);
- a pool of one connection: request threads queue on the pool (a condition variable, no sleeping) instead of on
  SQLite's busy handler, whose back-off sleeps of up to 100 ms would wreck tail latency. Other processes (the
  terminal mode, an import while serving) still wait through ``busy_timeout``.
PostgreSQL needs none of this; its row locks make the quota UPDATE in ``assign.py`` wait and re-check.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import EmpathicError

MIGRATIONS = Path(__file__).parent / "migrations"


def default_url(run: str) -> str:
    return f"sqlite:///runs/{run}/labels/feedback.db"


def make_engine(url: str, synchronous: str = "NORMAL"):
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import QueuePool

    try:
        parsed = make_url(url)
    except Exception as e:  # noqa: BLE001 - SQLAlchemy raises several types for a bad URL
        raise EmpathicError(f"database URL {url!r} is not valid: {e}") from None
    if synchronous not in ("NORMAL", "FULL"):
        raise EmpathicError(f"sqlite_synchronous must be NORMAL or FULL, got {synchronous!r}")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=120,
                           connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let the "begin" hook below issue BEGIN itself
        for pragma in ("journal_mode=WAL", f"synchronous={synchronous}", "busy_timeout=30000", "foreign_keys=ON"):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def migrate(engine) -> None:
    """Bring the schema to the newest Alembic revision (a no-op when it is there already)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Store:
    """An engine plus a session factory; every unit of work is one ``tx()``."""

    def __init__(self, url: str, *, upgrade: bool = True, synchronous: str = "NORMAL"):
        from sqlalchemy.orm import sessionmaker

        self.url = url
        self.engine = make_engine(url, synchronous)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if upgrade:
            migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def tx(self) -> Iterator:
        with self._sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()
