"""A throw-away PostgreSQL server on a loopback port, from Debian's ``postgresql`` binaries: what the PostgreSQL
tests and the labelling load benchmark run against (no server to set up, nothing left behind)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable


class PostgresUnavailable(RuntimeError):
    """No server could be started here; the message says why (missing binaries, no postgres user, ...)."""


def start_local_postgres(*settings: str) -> tuple[str, Callable[[], None]]:
    """Start a server (extra ``settings`` such as ``"max_connections=200"`` go to ``-c``); returns its SQLAlchemy
    URL and a function that stops it and removes its files."""
    bindir = next((os.path.dirname(p) for p in [shutil.which("initdb") or ""] +
                   sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) if p and os.path.exists(p)), None)
    if bindir is None:
        raise PostgresUnavailable("no initdb/pg_ctl (apt-get install -y postgresql)")
    folder = tempfile.mkdtemp(prefix="empathic-pg-")
    as_user = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as the postgres user
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder, ignore_errors=True)
            raise PostgresUnavailable("running as root and there is no postgres user") from None
        os.chown(folder, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = os.path.join(folder, "data")
    options = " ".join([f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", *(f"-c {s}" for s in settings)])

    def run(*cmd):
        return subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True)

    try:
        run(f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
        run(f"{bindir}/pg_ctl", "-D", data, "-w", "-l", os.path.join(folder, "log"), "-o", options, "start")
    except subprocess.CalledProcessError as e:
        shutil.rmtree(folder, ignore_errors=True)
        raise PostgresUnavailable(f"could not start a server ({(e.stderr or '').strip()[-200:]})") from None

    def stop() -> None:
        subprocess.run([*as_user, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)

    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", stop
