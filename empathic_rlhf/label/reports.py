"""The admin page's numbers, computed in a separate worker process.

The statistics are pure-Python work of a few hundred milliseconds at 10k labels (agreement, tests, per-annotator
numbers). In a thread of the server they hold the GIL, and every statement of every annotator's request waits for
its turn (measured: annotators' p99 went from ~130 to ~460 ms with an admin polling). In their own process, at a
lower CPU priority, they cost the annotators little; the process reads the database through its own connection (on
SQLite a WAL reader, which never blocks the writer). Results are cached for ``admin_refresh_seconds``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

_stores: dict = {}  # in the worker: one Store per database URL


def _compute(kind: str, url: str, wait_s: float):
    """In the worker process: ``progress.stats`` or ``compare.report`` on ``url``."""
    from . import compare, progress
    from .db import Store

    if url not in _stores:
        _stores[url] = Store(url, upgrade=False, wait_s=wait_s)
    return {"stats": progress.stats, "compare": compare.report}[kind](_stores[url])


PARENT_CHECK_SECONDS = 1.0  # how soon the worker notices that its server is gone


def _start_worker(server_pid: int) -> None:
    """In the worker, once: CPU to the annotators first (reports are background work, nice 10), and exit when the
    server is gone. A server killed outright (SIGKILL, OOM) never shuts its pool down, and the worker would block
    forever on a queue whose write end it holds itself."""
    import threading

    os.nice(10)

    def watch() -> None:
        while os.getppid() == server_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="exit-with-server").start()


def _warm() -> None:
    import krippendorff  # noqa: F401
    import scipy.stats  # noqa: F401
    import statsmodels.stats.inter_rater  # noqa: F401
    import statsmodels.stats.proportion  # noqa: F401


class Reports:
    """One worker process (spawned, so it shares no locks with the server's threads) and a per-kind cache."""

    def __init__(self, url: str, config):
        self.url, self.config = url, config
        self._pool: ProcessPoolExecutor | None = None
        self._cache: dict[str, tuple[float, object]] = {}
        self._lock = asyncio.Lock()

    def start(self) -> None:
        """Start the worker and let it import the statistics libraries (seconds) before anyone asks (``label
        serve`` does this at start; elsewhere the first request does)."""
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_worker, initargs=(os.getpid(),))
        self._pool.submit(_warm)

    async def get(self, kind: str):
        """The numbers of ``kind``, at most ``refresh_s`` old; concurrent askers share one computation."""
        async with self._lock:
            hit = self._cache.get(kind)
            if hit is not None and time.monotonic() - hit[0] < self.config.admin_refresh_seconds:
                return hit[1]
            if self._pool is None:
                self.start()
            value = await asyncio.get_running_loop().run_in_executor(self._pool, _compute, kind, self.url,
                                                                     self.config.db_wait_seconds)
            self._cache[kind] = (time.monotonic(), value)
            return value

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
