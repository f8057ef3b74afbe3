"""The admin statistics worker exits when the server dies without shutting it down (SIGKILL, OOM)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SERVER = """
import sys, time
from empathic_rlhf.label.config import LabelConfig
from empathic_rlhf.label.reports import Reports
reports = Reports("sqlite:///" + sys.argv[1], LabelConfig())
reports.start()
worker = reports._pool.submit(__import__("os").getpid).result(timeout=120)
print(worker, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for its new parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_worker_exits_when_the_server_is_killed(tmp_path):
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path / "labels.db")], stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
    worker = int(server.stdout.readline())
    assert _alive(worker)
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=30)
    deadline = time.monotonic() + 30
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(worker)
