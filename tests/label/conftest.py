"""Fixtures for the labelling app: a temporary SQLite DB, tasks made here, annotators, an in-process client."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")


@pytest.fixture
def cfg():
    from empathic_rlhf.label.config import LabelConfig

    return LabelConfig(overlap=1, calibration_overlap=3, calibration_fraction=0.0, gold_fraction=0.0)


@pytest.fixture
def store(tmp_path):
    from empathic_rlhf.label.db import Store

    s = Store(f"sqlite:///{tmp_path / 'label.db'}")
    yield s
    s.close()


@pytest.fixture
def app_client(store, cfg):
    """``(client, store, cfg)``; the client speaks to the app in-process."""
    from fastapi.testclient import TestClient

    from empathic_rlhf.label.app import create_app

    with TestClient(create_app(store, cfg)) as client:
        yield client



@pytest.fixture(scope="session")
def postgres_url():
    """A throw-away PostgreSQL server on loopback (Debian's postgresql binaries), or a skip saying why not."""
    import glob
    import os
    import shutil
    import socket
    import subprocess
    import tempfile

    bindir = next((os.path.dirname(p) for p in [shutil.which("initdb") or ""] +
                   sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) if p and os.path.exists(p)), None)
    if bindir is None:
        pytest.skip("PostgreSQL test skipped: no initdb/pg_ctl (apt-get install -y postgresql)")
    pytest.importorskip("psycopg", reason="PostgreSQL test skipped: psycopg not installed")
    as_user = []
    folder = tempfile.mkdtemp(prefix="label-pg-")
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as the postgres user
        try:
            import pwd
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("PostgreSQL test skipped: running as root and there is no postgres user")
        os.chown(folder, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = os.path.join(folder, "data")
    def run(*cmd):
        return subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True)
    try:
        run(f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
        run(f"{bindir}/pg_ctl", "-D", data, "-w", "-l", os.path.join(folder, "log"), "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    except subprocess.CalledProcessError as e:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"PostgreSQL test skipped: could not start a server ({e.stderr.strip()[-200:]})")
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    subprocess.run([*as_user, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
    shutil.rmtree(folder, ignore_errors=True)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (never Playwright's own browser download)."""
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser test skipped: {CHROMIUM} missing (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser test skipped: pip install playwright")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def live(tmp_path):
    """``live(tasks, *overrides)`` -> (server, tokens): a DB with ``tasks`` imported, annotator ``ann`` and admin
    ``boss`` invited, and a server process on loopback."""
    from empathic_rlhf.label.auth import invite
    from empathic_rlhf.label.config import LabelConfig
    from empathic_rlhf.label.db import Store
    from empathic_rlhf.label.tasks import import_tasks
    from label_helpers import LiveServer, write_tasks

    servers = []

    def start(tasks, *overrides, config=None):
        url = f"sqlite:///{tmp_path / 'live.db'}"
        store = Store(url)
        import_tasks(store, write_tasks(tmp_path / "live.jsonl", tasks),
                     config or LabelConfig(calibration_fraction=0.0, gold_fraction=0.0))
        tokens = {"ann": invite(store, "ann"), "boss": invite(store, "boss", admin=True)}
        store.close()
        server = LiveServer(url, "--label.gold_fraction=0", *overrides).start()
        servers.append(server)
        return server, tokens

    yield start
    for server in servers:
        server.stop()
