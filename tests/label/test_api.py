"""HTTP API against a real (temporary SQLite) database: auth, isolation, the labelling flow, quotas, undo."""

from __future__ import annotations

import pytest
from label_helpers import auth, make_tasks, write_tasks

from empathic_rlhf.label.auth import invite
from empathic_rlhf.label.tasks import import_tasks


@pytest.fixture
def loaded(app_client, store, cfg, tmp_path):
    import_tasks(store, write_tasks(tmp_path / "tasks.jsonl", make_tasks(6)), cfg)
    return app_client, {"ann": invite(store, "ann"), "bob": invite(store, "bob"),
                        "boss": invite(store, "boss", admin=True)}


def label(client, token, outcome="best", pick=0, **extra):
    nxt = client.get("/api/next", headers=auth(token)).json()
    body = {"assignment_id": nxt["assignment_id"], "task_id": nxt["task"]["task_id"], "outcome": outcome,
            "best": nxt["task"]["candidates"][pick]["cand_id"] if outcome == "best" else None, **extra}
    r = client.post("/api/labels", headers=auth(token), json=body)
    assert r.status_code == 200, r.text
    return nxt, r.json()


def test_tokens_guard_every_route(loaded):
    client, tok = loaded
    assert client.get("/api/next").status_code == 401
    assert client.get("/api/next").headers["www-authenticate"] == "Bearer"
    assert client.get("/api/next", headers=auth("wrong")).status_code == 403
    assert client.post("/api/labels", json={}).status_code == 401
    assert client.get("/api/admin/stats").status_code == 401
    assert client.get("/api/admin/stats", headers=auth(tok["ann"])).status_code == 403
    assert client.get("/api/admin/export/labels.jsonl", headers=auth(tok["ann"])).status_code == 403
    assert client.get("/api/admin/stats", headers=auth(tok["boss"])).status_code == 200
    assert client.get("/join/wrong").status_code == 403
    assert client.get(f"/join/{tok['ann']}").status_code == 200
    assert client.get(f"/admin/{tok['ann']}").status_code == 403
    assert client.get(f"/admin/{tok['boss']}").status_code == 200


def test_annotator_cannot_read_or_change_anothers_labels(loaded):
    client, tok = loaded
    nxt, res = label(client, tok["ann"])
    assert client.get(f"/api/labels/{res['label_id']}", headers=auth(tok["bob"])).status_code == 404
    assert client.get("/api/labels", headers=auth(tok["bob"])).json()["labels"] == []
    # bob posting on ann's assignment is refused and changes nothing
    r = client.post("/api/labels", headers=auth(tok["bob"]),
                    json={"assignment_id": nxt["assignment_id"], "task_id": nxt["task"]["task_id"], "outcome": "tie"})
    assert r.status_code == 404
    # bob's undo undoes nothing of ann's
    assert client.post("/api/undo", headers=auth(tok["bob"])).json()["undone"] is None
    mine = client.get("/api/labels", headers=auth(tok["ann"])).json()["labels"]
    assert [(m["task_id"], m["outcome"]) for m in mine] == [(nxt["task"]["task_id"], "best")]


def test_label_flow_progress_and_undo(loaded):
    client, tok = loaded
    first = client.get("/api/next", headers=auth(tok["ann"])).json()
    assert first["progress"] == {"done": 0, "left": 6, "left_capped": False}
    assert "gold" not in first["task"] and all("source" not in c for c in first["task"]["candidates"])
    _, res = label(client, tok["ann"], pick=1, ratings={first["task"]["candidates"][1]["cand_id"]: {"empathy": 5}})
    assert res["next"]["progress"]["done"] == 1 and res["next"]["task"]["task_id"] != first["task"]["task_id"]
    undone = client.post("/api/undo", headers=auth(tok["ann"])).json()
    assert undone["undone"] == first["task"]["task_id"]
    assert undone["next"]["task"]["task_id"] == first["task"]["task_id"]  # the undone task comes back first
    assert undone["next"]["progress"]["done"] == 0
    assert undone["next"]["task"]["candidates"] == first["task"]["candidates"]  # same order after reload


def test_retry_of_same_label_is_idempotent(loaded):
    client, tok = loaded
    nxt = client.get("/api/next", headers=auth(tok["ann"])).json()
    body = {"assignment_id": nxt["assignment_id"], "task_id": nxt["task"]["task_id"], "outcome": "tie"}
    a = client.post("/api/labels", headers=auth(tok["ann"]), json=body).json()
    b = client.post("/api/labels", headers=auth(tok["ann"]), json=body).json()
    assert (a["created"], b["created"], a["label_id"]) == (True, False, b["label_id"])
    assert len(client.get("/api/labels", headers=auth(tok["ann"])).json()["labels"]) == 1


@pytest.mark.parametrize("body, needle", [
    ({"outcome": "great"}, "outcome"),
    ({"outcome": "best"}, "best"),
    ({"outcome": "tie", "best": "c0"}, "best"),
    ({"outcome": "best", "best": "nope"}, "not a candidate"),
    ({"outcome": "best", "best": "c0", "ratings": {"c0": {"empathy": 6}}}, "ratings.c0.empathy"),
    ({"outcome": "best", "best": "c0", "ratings": {"c0": {"wit": 3}}}, "ratings.c0.wit"),
    ({"outcome": "best", "best": "c0", "edit": {"cand_id": "c0", "text": "  "}}, "edit"),
])
def test_bad_labels_are_rejected_with_reason(loaded, body, needle):
    client, tok = loaded
    nxt = client.get("/api/next", headers=auth(tok["ann"])).json()
    r = client.post("/api/labels", headers=auth(tok["ann"]), json={"assignment_id": nxt["assignment_id"], "task_id": nxt["task"]["task_id"], **body})
    assert r.status_code == 422 and needle in r.json()["detail"]
    assert client.get("/api/labels", headers=auth(tok["ann"])).json()["labels"] == []


def test_required_ratings(app_client, store, cfg, tmp_path):
    cfg.ratings_required, cfg.criteria = True, ["empathy", "fluency"]
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(2)), cfg)
    tok = invite(store, "ann")
    nxt = app_client.get("/api/next", headers=auth(tok)).json()
    best = nxt["task"]["candidates"][0]["cand_id"]
    body = {"assignment_id": nxt["assignment_id"], "task_id": nxt["task"]["task_id"], "outcome": "best", "best": best, "ratings": {best: {"empathy": 3}}}
    r = app_client.post("/api/labels", headers=auth(tok), json=body)
    assert r.status_code == 422 and "fluency" in r.json()["detail"]
    body["ratings"][best]["fluency"] = 4
    assert app_client.post("/api/labels", headers=auth(tok), json=body).status_code == 200


def test_overlap_never_twice_and_quota(app_client, store, cfg, tmp_path):
    cfg.overlap = 2
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(3)), cfg)
    toks = [invite(store, f"a{i}") for i in range(3)]
    seen = {t: [] for t in toks}
    for t in toks:
        while True:
            nxt = app_client.get("/api/next", headers=auth(t)).json()
            if nxt["done"]:
                break
            seen[t].append(nxt["task"]["task_id"])
            app_client.post("/api/labels", headers=auth(t), json={"assignment_id": nxt["assignment_id"], "task_id": nxt["task"]["task_id"],
                                                                   "outcome": "tie"})
    # 3 tasks x overlap 2 = 6 labels: a0 and a1 take all three, a2 gets nothing; nobody sees a task twice
    assert [len(seen[t]) for t in toks] == [3, 3, 0]
    assert all(len(set(v)) == len(v) for v in seen.values())
    stats = app_client.get("/api/admin/stats", headers=auth(invite(store, "boss", admin=True))).json()
    assert stats["overall"]["slots"] == stats["overall"]["slots_filled"] == 6


def test_skip_hands_the_slot_to_someone_else(app_client, store, cfg, tmp_path):
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(1)), cfg)
    a, b = invite(store, "a"), invite(store, "b")
    assert app_client.get("/api/next", headers=auth(b)).json()["done"] is False  # b holds the only slot ...
    app_client.post("/api/undo", headers=auth(b))
    nxt = app_client.get("/api/next", headers=auth(a)).json()
    assert nxt["done"] is True  # ... so a gets nothing,
    nb = app_client.get("/api/next", headers=auth(b)).json()
    app_client.post("/api/labels", headers=auth(b), json={"assignment_id": nb["assignment_id"], "task_id": "t0", "outcome": "skip"})
    assert app_client.get("/api/next", headers=auth(a)).json()["task"]["task_id"] == "t0"  # until b skips it
    assert app_client.get("/api/next", headers=auth(b)).json()["done"] is True  # and b never sees it again


def test_calibration_tasks_get_more_annotators_and_come_first(app_client, store, cfg, tmp_path):
    cfg.calibration_fraction, cfg.calibration_overlap = 0.5, 3
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(20)), cfg)
    from sqlalchemy import select

    from empathic_rlhf.label.models import Task
    with store.tx() as s:
        quotas = dict(s.execute(select(Task.task_id, Task.quota)).all())
    calib = {t for t, q in quotas.items() if q == 3}
    assert 4 <= len(calib) <= 16 and set(quotas.values()) == {1, 3}
    tok = invite(store, "a")
    assert app_client.get("/api/next", headers=auth(tok)).json()["task"]["task_id"] in calib


def test_gold_tasks_and_accuracy(app_client, store, cfg, tmp_path):
    cfg.gold_fraction = 1.0  # every next task is a gold one while any is left
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(4, gold={0: 1, 1: 2})), cfg)
    tok, boss = invite(store, "a"), invite(store, "boss", admin=True)
    for _ in range(2):
        nxt = app_client.get("/api/next", headers=auth(tok)).json()
        task_id = nxt["task"]["task_id"]
        assert task_id in ("t0", "t1") and "gold" not in nxt["task"]
        # right on t0 (gold c1), wrong on t1 (gold c2)
        app_client.post("/api/labels", headers=auth(tok), json={
            "assignment_id": nxt["assignment_id"], "task_id": nxt["task"]["task_id"], "outcome": "best", "best": "c1"})
    ann = [p for p in app_client.get("/api/admin/stats", headers=auth(boss)).json()["annotators"]
           if p["annotator"] == "a"][0]
    assert (ann["gold_n"], ann["gold_ok"], ann["gold_accuracy"]) == (2, 1, 0.5)


def test_stale_reservations_are_released(store, cfg, tmp_path):
    from empathic_rlhf.label import assign
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(1)), cfg)
    from sqlalchemy import select

    from empathic_rlhf.label.models import Annotator
    invite(store, "a"), invite(store, "b")
    with store.tx() as s:
        a, b = s.scalars(select(Annotator.id).order_by(Annotator.id)).all()
        assert assign.next_assignment(s, a, cfg) is not None
        assert assign.next_assignment(s, b, cfg) is None
    with store.tx() as s:
        assert assign.expire_stale(s, minutes=-1) == 1  # "older than -1 minutes" = every open one
    with store.tx() as s:
        assert assign.next_assignment(s, b, cfg)[1].task_id == "t0"


def test_admin_export_download(loaded):
    client, tok = loaded
    label(client, tok["ann"], pick=0)
    r = client.get("/api/admin/export/pairs.jsonl", headers=auth(tok["boss"]))
    assert r.status_code == 200 and r.text.count("\n") == 2  # best vs the two others
    assert client.get("/api/admin/export/secrets.txt", headers=auth(tok["boss"])).status_code == 404
