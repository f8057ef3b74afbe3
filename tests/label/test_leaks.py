"""The last leaks and edges (issue 24): a route that answers before reading a chunked body closes the connection
instead of draining it; the chat routes check the token before the body; `revoke --admin-only` leaves no
labelling link behind; bidi controls are gone from a comparison's model names and the chat's error text; a
deleted chat is gone from the SQLite files (WAL included); Ctrl-D in `label terminal` ends it in one line."""

from __future__ import annotations

import select
import socket
import time

import pytest
from label_helpers import auth, make_tasks, write_tasks

from empathic_rlhf import cli
from empathic_rlhf.label import chat_store
from empathic_rlhf.label.auth import invite
from empathic_rlhf.label.config import LabelConfig

CHUNK = 65536
RLO = "\u202e"


def push_chunked(port: int, path: str, headers: dict, most: int = 256 * 2**20) -> dict:
    """POST ``path`` with a chunked body that never ends (up to ``most`` bytes): the answer, how many body bytes
    went out before the server stopped taking them, and whether it closed the connection."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                 f"Content-Type: application/json\r\n{head}\r\n".encode())
    chunk = f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n"
    sock.sendall(chunk)
    answer = b""
    while b"\r\n\r\n" not in answer:  # the route answers without reading the body
        data = sock.recv(65536)
        if not data:
            break
        answer += data
    sent, closed, t0 = CHUNK, False, time.monotonic()
    try:
        while sent < most and time.monotonic() - t0 < 20:
            sock.sendall(chunk)
            sent += CHUNK
            if select.select([sock], [], [], 0)[0] and not sock.recv(65536):
                closed = True  # the server closed its side
                break
    except OSError:  # reset by the server (it closed with our bytes unread), or it stopped reading (timeout)
        closed = True
    sock.close()
    return {"status": int(answer.split(b" ", 2)[1]) if answer else None, "head": answer.lower(), "sent": sent,
            "closed": closed}


@pytest.mark.parametrize("with_token", [False, True])
def test_an_early_answer_closes_the_connection_instead_of_draining_the_body(live, with_token):
    """No token: 401 without reading the body; /api/undo with a token: 200 without reading it. Either way the
    server closes the connection, so a client pushing a body without end is cut off after what the kernel
    buffers (a few MB), not read on for ever (before: 256 MB drained in ~1 s and more on request)."""
    server, tok = live(make_tasks(2))
    headers = auth(tok["ann"]) if with_token else {}
    out = push_chunked(server.port, "/api/undo", headers)
    assert out["status"] == (200 if with_token else 401)
    assert b"connection: close" in out["head"]
    assert out["closed"] and out["sent"] < 32 * 2**20, out["sent"]


def test_a_body_read_in_full_keeps_the_connection_open(live):
    """Only an early answer closes: a label whose body was read keeps its keep-alive connection."""
    import httpx

    server, tok = live(make_tasks(2))
    with httpx.Client(base_url=server.base, headers=auth(tok["ann"])) as client:
        nxt = client.get("/api/next").json()
        r = client.post("/api/labels", json={"assignment_id": nxt["assignment_id"],
                                             "task_id": nxt["task"]["task_id"], "outcome": "tie"})
        assert r.status_code == 200 and r.headers.get("connection") != "close"
        assert client.post("/api/undo").headers.get("connection") != "close"  # no body: nothing to drain


@pytest.fixture
def chat_client(store):
    from fastapi.testclient import TestClient

    from empathic_rlhf.label.app import create_app

    with TestClient(create_app(store, LabelConfig(chat_enabled=True, calibration_fraction=0.0,
                                                  gold_fraction=0.0))) as client:
        yield client


@pytest.mark.parametrize("path", ["/api/chat/start", "/api/chat/choice", "/api/chat/retry", "/api/chat/messages"])
def test_chat_posts_check_the_token_before_the_body(chat_client, store, path):
    tok = invite(store, "ann")
    bad = {"content": b"not json", "headers": {"Content-Type": "application/json"}}
    assert chat_client.post(path, **bad).status_code == 401  # no token: 401, not 422 with the schema
    r = chat_client.post(path, content=b"not json", headers={**auth("wrong"), "Content-Type": "application/json"})
    assert r.status_code == 403 and "consent" not in r.text and "chat_id" not in r.text
    r = chat_client.post(path, content=b"not json", headers={**auth(tok), "Content-Type": "application/json"})
    assert r.status_code == 422


def test_revoke_admin_only_leaves_no_labelling_link(tmp_path, monkeypatch, capsys):
    """An admin link opens only admin pages; dropping admin rights ends it (it must not become a labelling link
    that reserves tasks). The person stays; `invite --rotate` then issues a labelling link."""
    from fastapi.testclient import TestClient

    from empathic_rlhf.label.app import create_app
    from empathic_rlhf.label.db import Store
    from empathic_rlhf.label.tasks import import_tasks

    monkeypatch.chdir(tmp_path)
    cfg = LabelConfig(calibration_fraction=0.0, gold_fraction=0.0)
    store = Store(f"sqlite:///{tmp_path / 'label.db'}")
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(2)), cfg)
    boss, ann = invite(store, "boss", admin=True), invite(store, "ann")
    db = ["--db", f"sqlite:///{tmp_path / 'label.db'}"]
    with TestClient(create_app(store, cfg)) as client:
        assert client.get("/api/admin/stats", headers=auth(boss)).status_code == 200
        assert cli.main(["label", "revoke", "boss", "--admin-only", *db]) == 0
        assert "admin rights dropped" in capsys.readouterr().out
        assert client.get("/api/admin/stats", headers=auth(boss)).status_code == 403
        assert client.get("/api/next", headers=auth(boss)).status_code == 403  # no task reserved by it
        assert client.get(f"/join/{boss}").status_code == 403
        assert client.get(f"/admin/{boss}").status_code == 403
        assert client.get("/api/admin/stats", headers=auth(ann)).status_code == 403
        assert client.get("/api/next", headers=auth(ann)).json()["task"]["task_id"] == "t0"  # t1 still free
        assert cli.main(["label", "revoke", "ann", "--admin-only", *db]) == 2  # not an admin: nothing changes
        assert "not an admin" in capsys.readouterr().err
        assert client.get("/api/me", headers=auth(ann)).status_code == 200
        assert cli.main(["label", "invite", "boss", "--rotate", *db]) == 0
        fresh = capsys.readouterr().out.strip()
        assert "/join/" in fresh  # a labelling link now, as the message said
        assert client.get("/api/next", headers=auth(fresh.rsplit("/", 1)[1])).json()["task"]["task_id"] == "t1"
    store.close()


def test_bidi_controls_leave_model_names_of_the_comparison(store, tmp_path):
    from empathic_rlhf.label import assign, compare
    from empathic_rlhf.label.tasks import import_tasks
    from label_helpers import request

    cfg = LabelConfig(calibration_fraction=0.0, gold_fraction=0.0)
    task = make_tasks(1, k=2, kind="model-comparison")[0]
    task["candidates"][0]["source"] = f"rl{RLO}evil"
    task["candidates"][1]["source"] = "sft"
    task["sampling"] = {"compare": [f"rl{RLO}evil", "sft"]}
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", [task]), cfg)
    invite(store, "ann")
    with store.tx() as s:
        a, t = assign.next_assignment(s, 1, cfg)
        both = {"empathy": 3, "relevance": 3, "fluency": 3}
        assign.submit(s, 1, request(assignment_id=a.id, task_id=t.task_id, outcome="best", best="c0",
                                    ratings={"c0": both, "c1": both}), cfg)
    rows = compare.report(store)
    assert rows and all(RLO not in r["model_a"] + r["model_b"] for r in rows)
    assert rows[0]["model_a"] == "rlevil"
    assert RLO not in compare.format_report(rows)


def test_bidi_controls_leave_the_chat_error_text(chat_client, store):
    tok = invite(store, "ann")
    chat = chat_client.post("/api/chat/start", headers=auth(tok),
                            json={"consent": True, "consent_version": chat_store.CONSENT_VERSION}).json()
    assert chat_client.post("/api/chat/messages", headers=auth(tok),
                            json={"chat_id": chat["chat_id"], "text": "hello"}).status_code == 200
    job = chat_store.claim_jobs(store, "w", 1, 60.0)[0]
    assert chat_store.fail_job(store, job, f"CUDA {RLO}yromem fo tuo")
    view = chat_client.get(f"/api/chat/{chat['chat_id']}", headers=auth(tok)).json()
    assert view["pending"]["status"] == "failed" and view["pending"]["error"] == "CUDA yromem fo tuo"


SECRET = "my-very-private-words-"


def _chat_with_secret(client, store, tok) -> int:
    chat = client.post("/api/chat/start", headers=auth(tok),
                       json={"consent": True, "consent_version": chat_store.CONSENT_VERSION}).json()
    for turn in range(2):
        assert client.post("/api/chat/messages", headers=auth(tok),
                           json={"chat_id": chat["chat_id"], "text": f"{SECRET}{turn} " * 20}).status_code == 200
        job = chat_store.claim_jobs(store, "w", 1, 60.0)[0]
        chat_store.finish_job(store, job, [f"{SECRET}reply{turn} " * 10], "policy", {})
    return chat["chat_id"]


def _on_disk(folder) -> dict:
    return {p.name: p.read_bytes().count(SECRET.encode()) for p in folder.iterdir() if p.name.startswith("label.db")}


def test_a_deleted_chat_is_gone_from_the_sqlite_files_wal_included(chat_client, store, tmp_path):
    tok = invite(store, "ann")
    keep = invite(store, "bob")
    chat_id = _chat_with_secret(chat_client, store, tok)
    chat_client.post("/api/chat/start", headers=auth(keep),  # another person's chat stays
                     json={"consent": True, "consent_version": chat_store.CONSENT_VERSION})
    assert sum(_on_disk(tmp_path).values()) > 0  # it was there (in the WAL at least)
    assert chat_client.delete(f"/api/chat/{chat_id}", headers=auth(tok)).json()["deleted"]["chats"] == 1
    found = _on_disk(tmp_path)
    assert "label.db" in found and sum(found.values()) == 0, found
    with store.core() as c:
        assert c.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_deleting_all_chats_also_wipes_them(chat_client, store, tmp_path):
    tok = invite(store, "ann")
    _chat_with_secret(chat_client, store, tok)
    _chat_with_secret(chat_client, store, tok)
    assert chat_client.delete("/api/chat", headers=auth(tok)).json()["deleted"]["chats"] == 2
    assert sum(_on_disk(tmp_path).values()) == 0


def test_ctrl_d_at_a_rating_prompt_ends_the_terminal_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "demo" / "sample").mkdir(parents=True)
    write_tasks(tmp_path / "runs" / "demo" / "sample" / "tasks.jsonl", make_tasks(2, k=2))
    assert cli.main(["label", "import", "--label.calibration_fraction=0"]) == 0
    capsys.readouterr()
    answers = iter(["1"])

    def ask(prompt=""):
        try:
            return next(answers)
        except StopIteration:
            raise EOFError from None  # Ctrl-D at the first rating prompt
    monkeypatch.setattr("builtins.input", ask)
    assert cli.main(["label", "terminal", "--annotator", "bob"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err and "EOFError" not in captured.out + captured.err
    last = captured.out.strip().splitlines()[-1]
    assert last.startswith("stopped") and "not saved" in last and "0 labels done" in last


def test_a_deleted_chat_is_gone_from_the_postgres_tables(postgres_url):
    """PostgreSQL: after the deletion the tables that held the text (chat turns, reply jobs, the live-chat tasks
    its choices made) are rewritten without it (VACUUM FULL): the text is in none of their files, TOAST included.
    (PostgreSQL's own write-ahead log keeps it until its segments are recycled: docs/labelling.md.)"""
    import glob
    import os

    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine

    from empathic_rlhf.label.app import create_app
    from empathic_rlhf.label.db import Store

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("CREATE DATABASE feedback_scrub")
    admin.dispose()
    store = Store(postgres_url.rsplit("/", 1)[0] + "/feedback_scrub")
    cfg = LabelConfig(chat_enabled=True, chat_choice_every=1, chat_candidates=2)

    def on_disk() -> int:
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("CHECKPOINT")  # the pages are in the files, not only in shared buffers
            data = conn.exec_driver_sql("SHOW data_directory").scalar()
            paths = conn.exec_driver_sql(
                "SELECT pg_relation_filepath(oid) FROM pg_class WHERE relname IN ('chat_turns', 'chat_jobs', 'tasks') "
                "UNION SELECT pg_relation_filepath(reltoastrelid) FROM pg_class "
                "WHERE relname IN ('chat_turns', 'chat_jobs', 'tasks') AND reltoastrelid <> 0").scalars().all()
        files = [f for p in paths for f in glob.glob(os.path.join(data, p) + "*")]
        assert files
        return sum(open(f, "rb").read().count(SECRET.encode()) for f in files)

    try:
        with TestClient(create_app(store, cfg)) as client:
            tok = invite(store, "ann")
            chat = client.post("/api/chat/start", headers=auth(tok),
                               json={"consent": True, "consent_version": chat_store.CONSENT_VERSION}).json()
            client.post("/api/chat/messages", headers=auth(tok), json={"chat_id": chat["chat_id"],
                                                                       "text": f"{SECRET} " * 20})
            job = chat_store.claim_jobs(store, "w", 1, 60.0)[0]
            chat_store.finish_job(store, job, [f"{SECRET}a", f"{SECRET}b"], "policy", {})
            r = client.post("/api/chat/choice", headers=auth(tok),
                            json={"chat_id": chat["chat_id"], "job_id": job.id, "best": "c0"})
            assert r.status_code == 200
            assert on_disk() > 0
            deleted = client.delete(f"/api/chat/{chat['chat_id']}", headers=auth(tok)).json()["deleted"]
            assert deleted == {"chats": 1, "labels": 1, "tasks": 1, "wiped": True}
            assert on_disk() == 0
    finally:
        store.close()
