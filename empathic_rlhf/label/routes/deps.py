"""Shared route helpers: the pages' folder (``STATIC``), the bearer token check (also before a body is read:
:func:`authenticate_first`), and running one unit of work in one transaction without ever
letting a database wait (another process holding SQLite's write lock, a slow report) stall the event loop, other
requests or static files.

SQLite writes are tried first right on the event loop on a connection that never waits: the work itself takes
about a millisecond, and handing every request to a thread cost more than it saved (measured: p99 at 50
annotators rose from ~420 to ~780 ms on a loaded 2-core machine, as the loop and the thread took turns on the GIL
every 5 ms). When another process holds the write lock (an import, an export, the terminal mode), that attempt
fails at once and the work goes to one writer thread, which waits at most ``db_wait_seconds`` (then 503 with
``Retry-After``); while anything is queued there, later writes queue behind it, in order. The event loop never
waits on a lock, so static files and other requests keep flowing. Reads for pages and the admin run on their own
thread with their own WAL connection. PostgreSQL work goes to the thread pool, where requests run in parallel.
"""

from __future__ import annotations

import asyncio
import functools
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..auth import annotator_for, hash_token

STATIC = Path(__file__).resolve().parents[1] / "static"  # the pages; create_app serves it at /static
TOKEN_MEMORY_S = 300.0  # a token that passed the database check this recently may send its body before the next


def bearer(request: Request) -> str:
    """The token of ``Authorization: Bearer <token>``; 401 when absent."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "missing token: open your invite link", headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def check_role(who, *, admin: bool) -> None:
    """403 unless the token's role fits the route: admin routes need an admin token, and an admin token opens
    only admin routes (an annotator link never carries admin rights, so sharing one leaks nothing more)."""
    if who is None:
        raise HTTPException(403, "unknown token: ask for a new invite link")
    if admin and not who.is_admin:
        raise HTTPException(403, "admin token required")
    if not admin and who.is_admin:
        raise HTTPException(403, "this is an admin link: label with an annotator invite (`label invite NAME`)")


class Locked(Exception):
    """A no-wait attempt found the database locked by another process: run the work on the writer thread."""


def in_tx(store, token: str, work, *, admin: bool = False, read: bool = False, nowait: bool = False):
    """Run ``work(session, annotator)`` in one transaction as the token's annotator. A unique-constraint clash
    (one annotator racing themselves in two tabs) rolls back and is retried once against the new state."""
    for attempt in (1, 2):
        try:
            with (store.read() if read else store.core(nowait=nowait)) as s:
                who = annotator_for(s, token)
                check_role(who, admin=admin)
                return work(s, who)
        except IntegrityError:
            if attempt == 2:
                raise HTTPException(409, "conflicting concurrent request; try again") from None
        except (OperationalError, PoolTimeout) as e:
            if isinstance(e, OperationalError) and not _is_busy(e):
                raise
            if nowait:
                raise Locked from None
            raise HTTPException(503, "the database is busy (another process holds it); try again in a moment",
                                headers={"Retry-After": "2"}) from None


def _is_busy(e: OperationalError) -> bool:
    text = str(e.orig).lower()
    return any(s in text for s in ("database is locked", "lock timeout", "canceling statement", "busy"))


class DbThreads:
    """Where database work runs: for SQLite on the loop (no-wait) or one writer thread, and one reader thread;
    the thread pool for PostgreSQL."""

    def __init__(self, store):
        self.store = store
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="db-write") if store.is_sqlite else None
        self.reader = ThreadPoolExecutor(1, thread_name_prefix="db-read") if store.is_sqlite else None
        self.queued = 0  # writes waiting on the writer thread: while any are, new ones queue behind them

    async def write(self, store, token: str, work, *, admin: bool = False):
        """``in_tx`` for a write: on the loop when nothing waits, else (or when locked) on the writer thread."""
        if self.writer is not None and self.queued == 0:
            try:
                return in_tx(store, token, work, admin=admin, nowait=True)
            except Locked:
                pass
        self.queued += 1
        try:
            return await self.run(in_tx, store, token, work, admin=admin)
        finally:
            self.queued -= 1

    async def run(self, fn, *args, on_reader: bool = False, **kwargs):
        if self.writer is None:
            return await run_in_threadpool(fn, *args, **kwargs)
        pool = self.reader if on_reader else self.writer
        return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        for pool in (self.writer, self.reader):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)


async def run_tx(request: Request, work, *, admin: bool = False, read: bool = False, raw: bool = False):
    """``in_tx`` where it belongs (module docstring), answered as JSON (or the raw result with ``raw``)."""
    state = request.app.state
    if read:
        result = await state.db.run(in_tx, state.store, bearer(request), work, admin=admin, read=True,
                                    on_reader=True)
    else:
        result = await state.db.write(state.store, bearer(request), work, admin=admin)
    return result if raw else JSONResponse(result)


async def whoami(request: Request, token: str, *, admin: bool) -> bool:
    """Whether ``token`` (from a page URL) opens the page of this role."""
    def check(s, _who):
        return True
    try:
        return await request.app.state.db.run(in_tx, request.app.state.store, token, check, admin=admin, read=True,
                                              on_reader=True)
    except HTTPException as e:
        if e.status_code == 403:
            return False
        raise


async def authenticate_first(request: Request) -> None:
    """Check the token before reading a body. A token seen valid in the last few minutes skips this extra round
    trip (the transaction checks it again anyway); anything else is looked up first, so an unknown sender never
    gets its body read."""
    seen = request.app.state.tokens_seen
    key = hash_token(bearer(request))
    if time.monotonic() - seen.get(key, -TOKEN_MEMORY_S) < TOKEN_MEMORY_S:
        return
    await run_tx(request, lambda s, who: None, read=True, raw=True)
    if len(seen) > 10_000:  # bounded memory: forget everyone, they are re-checked once
        seen.clear()
    seen[key] = time.monotonic()
