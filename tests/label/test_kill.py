"""SIGKILL the server in the middle of a load: every label whose POST got a success answer is in the database,
the database is intact, no task is over its quota, and a restarted server carries on."""

from __future__ import annotations

import os
import signal
import threading

import httpx
from label_helpers import LiveServer, auth, make_tasks, write_tasks

from empathic_rlhf.label.auth import invite
from empathic_rlhf.label.config import LabelConfig
from empathic_rlhf.label.db import Store
from empathic_rlhf.label.tasks import import_tasks

KILL_AFTER = 150  # acknowledged labels before the kill: enough that requests are in flight at that moment


def test_sigkill_loses_no_acknowledged_label(tmp_path):
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    store = Store(url)
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(400)), LabelConfig(overlap=2, gold_fraction=0))
    tokens = [invite(store, f"a{i}") for i in range(8)]
    store.close()
    server = LiveServer(url, "--label.gold_fraction=0").start()
    acked: list[tuple[int, int]] = []  # (assignment_id, label_id) of every 200 answer
    lock, enough = threading.Lock(), threading.Event()

    def annotator(token):
        with httpx.Client(base_url=server.base, headers=auth(token), timeout=10) as client:
            try:
                nxt = client.get("/api/next").json()
                while not nxt["done"]:
                    r = client.post("/api/labels", json={"assignment_id": nxt["assignment_id"], "task_id": nxt["task"]["task_id"], "outcome": "tie"})
                    if r.status_code != 200:
                        return
                    with lock:
                        acked.append((nxt["assignment_id"], r.json()["label_id"]))
                        if len(acked) >= KILL_AFTER:
                            enough.set()
                    nxt = r.json()["next"]
            except httpx.TransportError:
                return  # the server is gone: this request was never acknowledged

    threads = [threading.Thread(target=annotator, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    assert enough.wait(120), "load never reached the kill point"
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    for t in threads:
        t.join(30)
    with lock:
        acked_now = list(acked)
    assert len(acked_now) >= KILL_AFTER

    store = Store(url)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            stored = set(conn.exec_driver_sql("SELECT assignment_id, id FROM labels").all())
            over = conn.exec_driver_sql(
                "SELECT count(*) FROM tasks t WHERE (SELECT count(*) FROM assignments a WHERE a.task_id = t.id "
                "AND a.holds_slot) > t.quota").scalar()
        assert set(acked_now) <= stored, f"lost: {set(acked_now) - stored}"
        assert over == 0
    finally:
        store.close()

    restarted = LiveServer(url).start()  # the WAL is recovered and labelling goes on
    try:
        client = httpx.Client(base_url=restarted.base, headers=auth(tokens[0]), timeout=10)
        nxt = client.get("/api/next").json()
        r = client.post("/api/labels", json={"assignment_id": nxt["assignment_id"], "task_id": nxt["task"]["task_id"], "outcome": "tie"})
        assert r.status_code == 200 and r.json()["created"] is True
    finally:
        restarted.stop()
