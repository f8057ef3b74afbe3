"""The server protects itself and its users: body limits checked before reading (and the token before the body),
security headers on every answer, admin and annotator rights kept apart and revocable, and database waits that
never stall the event loop (static files keep coming while another process holds SQLite's write lock)."""

from __future__ import annotations

import sqlite3
import threading
import time

import httpx
import pytest
from label_helpers import auth, make_tasks

from empathic_rlhf import cli
from empathic_rlhf.label.auth import invite


@pytest.fixture
def tok(app_client, store):
    return {"ann": invite(store, "ann"), "boss": invite(store, "boss", admin=True)}


def test_body_over_limit_is_413_before_reading_and_token_is_checked_first(app_client, tok):
    # a declared 200 MB body is refused from its header alone, authenticated or not
    big = {"Content-Length": str(200 * 2**20), "Content-Type": "application/json"}
    assert app_client.post("/api/labels", headers=big, content=b"{}").status_code == 413
    assert app_client.post("/api/labels", headers={**auth(tok["ann"]), **big}, content=b"{}").status_code == 413
    # other routes take no body at all
    assert app_client.post("/api/undo", headers=auth(tok["ann"]), content=b"x" * 5000).status_code == 413
    # a wrong token with a malformed body: 403 (the token is checked before the body is parsed), not 422
    r = app_client.post("/api/labels", headers=auth("wrong"), content=b"not json")
    assert r.status_code == 403
    r = app_client.post("/api/labels", headers=auth(tok["ann"]), content=b"not json")
    assert r.status_code == 422


def test_a_streamed_body_without_length_is_cut_off_at_the_limit(app_client, tok):
    # no Content-Length (chunked): the guard counts what arrives and refuses once past the route's limit
    def chunks():
        for _ in range(64):  # 64 x 64 KiB = 4 MiB, far over the labels route's 128 KiB
            yield b" " * 65536

    r = app_client.post("/api/labels", headers={**auth(tok["ann"]), "Content-Type": "application/json"},
                        content=chunks())
    assert r.status_code == 413
    assert "content-length" not in {k.lower() for k in r.request.headers}


def test_security_headers_and_no_store_on_token_pages(app_client, tok):
    for path, headers in [(f"/join/{tok['ann']}", {}), (f"/admin/{tok['boss']}", {}),
                          ("/api/next", auth(tok["ann"])), ("/guidelines", {}), ("/static/annotate.js", {})]:
        r = app_client.get(path, headers=headers)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
        private = path.startswith(("/join/", "/admin/", "/api/"))
        assert (r.headers.get("cache-control") == "no-store") == private, path


def test_pages_have_no_inline_script():
    """The CSP forbids inline script, so the pages must not rely on any."""
    import re
    from pathlib import Path

    import empathic_rlhf.label as pkg
    for page in (Path(pkg.__file__).parent / "static").glob("*.html"):
        html = page.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html) and not re.search(r"\son[a-z]+\s*=", html), page


def test_admin_and_annotator_tokens_are_separate(app_client, tok):
    assert app_client.get(f"/join/{tok['boss']}").status_code == 403  # the admin token is no annotator link
    assert app_client.get("/api/next", headers=auth(tok["boss"])).status_code == 403
    assert app_client.get("/api/admin/stats", headers=auth(tok["ann"])).status_code == 403


def test_revoke_drop_rights_and_delete(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    def run(*args):
        return cli.main(["label", *args])
    assert run("invite", "boss", "--admin") == 0
    link = capsys.readouterr().out.strip()
    assert "/admin/" in link and "/join/" not in link  # one link, for the admin page only
    assert run("invite", "ann") == 0
    ann = capsys.readouterr().out.strip().rsplit("/", 1)[1]
    from fastapi.testclient import TestClient

    from empathic_rlhf.label.app import create_app
    from empathic_rlhf.label.config import LabelConfig
    from empathic_rlhf.label.db import Store
    store = Store(f"sqlite:///{tmp_path}/runs/demo/label/label.db")
    boss = link.rsplit("/", 1)[1]
    with TestClient(create_app(store, LabelConfig())) as client:
        assert client.get("/api/admin/stats", headers=auth(boss)).status_code == 200
        assert run("revoke", "boss", "--admin-only") == 0
        assert client.get("/api/admin/stats", headers=auth(boss)).status_code == 403  # rights dropped
        assert client.get("/api/me", headers=auth(ann)).status_code == 200
        assert run("revoke", "ann") == 0
        assert client.get("/api/me", headers=auth(ann)).status_code == 403  # the link is dead at once
        assert run("delete", "ann") == 0
        assert run("delete", "nobody") == 2
    store.close()


def test_event_loop_stays_free_while_another_process_holds_the_write_lock(live, tmp_path):
    """Another connection holds SQLite's write lock for ~5 s (an import, an export): static files keep coming at
    once, and database requests give up after db_wait_seconds with 503 instead of hanging."""
    # the database wait (3 s) is far longer than a static file may take (1.5 s), so a blocked event loop -- the
    # static request stuck behind the waiting API request -- fails clearly even on a loaded machine
    server, tokens = live(make_tasks(3), "--label.db_wait_seconds=3")
    lock = sqlite3.connect(str(tmp_path / "live.db"), isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    results = {}

    def api():
        t0 = time.monotonic()
        results["api"] = (httpx.get(f"{server.base}/api/next", headers=auth(tokens["ann"]), timeout=30).status_code,
                          time.monotonic() - t0)
    worker = threading.Thread(target=api)
    worker.start()
    time.sleep(0.3)  # the API request is now waiting on the lock
    t0 = time.monotonic()
    static = httpx.get(f"{server.base}/static/style.css", timeout=30)
    static_s = time.monotonic() - t0
    worker.join(30)
    time.sleep(1.5)
    lock.execute("ROLLBACK")
    lock.close()
    assert static.status_code == 200 and static_s < 1.5
    status, api_s = results["api"]
    assert status == 503 and 2.9 < api_s < 6
    assert httpx.get(f"{server.base}/api/next", headers=auth(tokens["ann"]), timeout=10).status_code == 200


def test_admin_stats_are_cached_for_the_refresh_time(app_client, store, cfg, tmp_path):
    from label_helpers import write_tasks

    from empathic_rlhf.label.tasks import import_tasks
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(3)), cfg)
    ann, boss = invite(store, "ann"), invite(store, "boss", admin=True)
    first = app_client.get("/api/admin/stats", headers=auth(boss)).json()["overall"]["labels"]
    nxt = app_client.get("/api/next", headers=auth(ann)).json()
    app_client.post("/api/labels", headers=auth(ann), json={"assignment_id": nxt["assignment_id"],
                                                           "task_id": nxt["task"]["task_id"], "outcome": "tie"})
    assert app_client.get("/api/admin/stats", headers=auth(boss)).json()["overall"]["labels"] == first == 0
    cfg.admin_refresh_seconds = 0
    assert app_client.get("/api/admin/stats", headers=auth(boss)).json()["overall"]["labels"] == 1
