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
    from empathic_rlhf.label.local_postgres import PostgresUnavailable, start_local_postgres

    pytest.importorskip("psycopg", reason="PostgreSQL test skipped: psycopg not installed")
    try:
        url, stop = start_local_postgres("fsync=off")
    except PostgresUnavailable as e:
        pytest.skip(f"PostgreSQL test skipped: {e}")
    yield url
    stop()


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
