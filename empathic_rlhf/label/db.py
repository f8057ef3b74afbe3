"""Engine, schema migrations and the one way to open a transaction: ``with store.tx() as session: ...``.

SQLite is tuned for a single server process with many request threads:
- WAL, so readers (the admin page, ``label export``) never block the writer and a killed process loses nothing
  that was committed (with ``synchronous=NORMAL`` a commit is in the OS page cache before the answer leaves,
  which survives the process; ``FULL`` adds an fsync per commit for power loss: LabelConfig.sqlite_synchronous);
- ``BEGIN IMMEDIATE`` for every transaction, so two transactions never both read and then both try to upgrade to
  a write lock (SQLite would fail one at once with SQLITE_BUSY instead of waiting);
- one writer connection at a time: a request's work runs right on the event loop on a connection that never
  waits (``core(nowait=True)``, about a millisecond), and only when another process holds the write lock does
  it go to one writer thread that waits, bounded (``routes/deps.py``); requests thus queue in order instead of on
  SQLite's busy handler, whose back-off sleeps of up to 100 ms would wreck tail latency;
- a separate reader engine (``store.read()``) for the admin's statistics and exports: in WAL a reader never
  blocks the writer, so a slow report cannot hold up annotators;
- every wait is bounded by ``wait_s`` (the busy timeout when another process -- an import, the terminal mode --
  holds the write lock, and the pool timeout): past it the request fails fast (HTTP 503) instead of hanging.
PostgreSQL needs little of this: the claim skips rows other transactions hold (``FOR UPDATE SKIP LOCKED``), and
``lock_timeout`` bounds the waits.

Deleting means gone from disk (``Store.scrub``, after a person deletes their chats): SQLite runs with
``secure_delete`` on (deleted rows are overwritten with zeros, whatever the build's default) and the WAL, which
still holds the pages as they were written, is checkpointed and truncated to zero bytes; PostgreSQL rewrites the
tables the text was in (``VACUUM FULL``; docs/labelling.md says what that does and does not erase).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import EmpathicError

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, synchronous: str = "NORMAL", wait_s: float = 5.0, *, reader: bool = False):
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
        if parsed.get_backend_name() == "postgresql":  # psycopg: bound lock waits and whole statements
            from ..extras import require

            require("postgres", "a PostgreSQL label database")
            ms = int(wait_s * 1000)
            args = {"options": f"-c lock_timeout={ms} -c statement_timeout={ms * 6}"}
        else:
            args = {}
        return create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True, pool_timeout=wait_s,
                             connect_args=args)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, poolclass=QueuePool, pool_size=1 if not reader else 2, max_overflow=0,
                           pool_timeout=wait_s, connect_args={"check_same_thread": False, "timeout": wait_s})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let the "begin" hook below issue BEGIN itself
        for pragma in ("journal_mode=WAL", f"synchronous={synchronous}", f"busy_timeout={int(wait_s * 1000)}",
                       "foreign_keys=ON", "secure_delete=ON"):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN" if reader else "BEGIN IMMEDIATE")  # a reader takes no write lock

    return engine


def migrate(engine) -> None:
    """Bring the schema to the newest Alembic revision (a no-op when it is there already)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:  # batch migrations copy tables that others reference; SQLite only allows that with FKs off,
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # set outside a transaction
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


class Store:
    """An engine plus a session factory; every unit of work is one ``tx()``."""

    def __init__(self, url: str, *, upgrade: bool = True, synchronous: str = "NORMAL", wait_s: float = 5.0):
        from sqlalchemy.orm import sessionmaker

        self.url = url
        self.engine = make_engine(url, synchronous, wait_s)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if upgrade:
            migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite: its own read-only connections (WAL readers never wait for the writer); elsewhere: the same pool
        self.reader = make_engine(url, synchronous, wait_s, reader=True) if self.is_sqlite else self.engine
        self._reads = sessionmaker(self.reader, expire_on_commit=False)
        # SQLite: a writer connection that never waits (busy timeout 0), for work tried right on the event loop
        self._nowait = make_engine(url, synchronous, 0.0) if self.is_sqlite else None

    @contextlib.contextmanager
    def tx(self) -> Iterator:
        with self._sessions.begin() as session:
            yield session

    @contextlib.contextmanager
    def core(self, *, nowait: bool = False) -> Iterator:
        """A unit of work on a bare Core connection (the server's hot path: no ORM session bookkeeping). With
        ``nowait`` (SQLite) it fails at once with "database is locked" instead of waiting for another process."""
        with (self._nowait if nowait and self._nowait is not None else self.engine).begin() as conn:
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator:
        """A read-only unit of work (reports, exports): on SQLite it never takes the write lock."""
        with self._reads.begin() as session:
            yield session

    def scrub(self, tables: tuple[str, ...]) -> bool:
        """After a deletion that must leave no trace on disk (a person's chats): SQLite has already overwritten the
        deleted rows with zeros (``secure_delete``); the WAL still holds the pages as they were before, so it is
        checkpointed into the database file and truncated to zero bytes. PostgreSQL: ``VACUUM FULL`` of ``tables``
        (those that held the text), which rewrites each into a new file without the dead rows (a plain VACUUM
        leaves fragments of them in the pages' free space); it locks the table meanwhile (~0.3 s for 20,000
        tasks, during which labelling waits). Returns whether it completed; False when a reader held an old
        snapshot (SQLite) or a lock (PostgreSQL) past ``wait_s``: the next scrub finishes the job."""
        from sqlalchemy.exc import OperationalError

        if self.is_sqlite:
            raw = self.engine.raw_connection()  # the writer's connection (busy timeout wait_s), outside a transaction
            try:
                busy, _log, _moved = raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                raw.close()
            return busy == 0
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM FULL " + ", ".join(tables))  # names from the code, never a request's
        except OperationalError:  # lock_timeout: someone held the table
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()
        if self.reader is not self.engine:
            self.reader.dispose()
        if self._nowait is not None:
            self._nowait.dispose()
