"""Data integrity: a label is stored on the task it was made on or not at all (and the person is told), expired
reservations are released before anyone is told "done", and the API refuses what the page never sends."""

from __future__ import annotations

import pytest
from label_helpers import auth, make_tasks, write_tasks

from empathic_rlhf.label.auth import invite
from empathic_rlhf.label.tasks import import_tasks


def expire_all(store) -> None:
    """Make every open reservation older than any reservation time (as if its annotator had walked away)."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from empathic_rlhf.label.models import Assignment
    with store.tx() as s:
        s.execute(update(Assignment).values(served_at=datetime.now(timezone.utc) - timedelta(days=1)))


def test_label_from_a_stale_tab_is_never_stored_on_another_task(app_client, store, cfg, tmp_path):
    """The browser case: tab 1 shows a gold task, its reservation expires and is swept, tab 2 opens on an ordinary
    task. Before the fix SQLite gave the new assignment the freed id, and tab 1's choice (cand_ids are shared
    across tasks, so it validated) was stored on tab 2's task."""
    from empathic_rlhf.label import assign
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(2, gold={1: 2})), cfg)
    tok = invite(store, "ann")
    cfg.gold_fraction = 1.0
    tab1 = app_client.get("/api/next", headers=auth(tok)).json()
    assert tab1["task"]["task_id"] == "t1"
    expire_all(store)
    with store.tx() as s:
        assert assign.expire_stale(s, cfg.reservation_minutes) == 1  # the sweep deletes the highest id
    cfg.gold_fraction = 0.0
    tab2 = app_client.get("/api/next", headers=auth(tok)).json()
    assert tab2["task"]["task_id"] == "t0" and tab2["assignment_id"] != tab1["assignment_id"]  # never reused
    stale = {"assignment_id": tab1["assignment_id"], "task_id": "t1", "outcome": "best", "best": "c0"}
    r = app_client.post("/api/labels", headers=auth(tok), json=stale)
    assert r.status_code == 404 and "not saved" in r.json()["detail"]
    # and a live assignment named with another task is refused: the label names its task, the server checks it
    r = app_client.post("/api/labels", headers=auth(tok), json={**stale, "assignment_id": tab2["assignment_id"]})
    assert r.status_code == 409 and "not saved" in r.json()["detail"]
    assert app_client.get("/api/labels", headers=auth(tok)).json()["labels"] == []


def test_assignment_ids_are_not_reused_after_deletion(store, cfg, tmp_path):
    from sqlalchemy import select

    from empathic_rlhf.label import assign
    from empathic_rlhf.label.models import Annotator
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(3)), cfg)
    invite(store, "a")
    with store.tx() as s:
        me = s.scalar(select(Annotator.id))
        first = assign.next_assignment(s, me, cfg)[0].id
    with store.tx() as s:
        assert assign.expire_stale(s, minutes=-1) == 1  # deletes the highest assignment id
    with store.tx() as s:
        assert assign.next_assignment(s, me, cfg)[0].id > first


def test_expired_reservations_are_released_before_saying_done(app_client, store, cfg, tmp_path):
    cfg.reservation_minutes = 30
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(1)), cfg)
    a, b = invite(store, "a"), invite(store, "b")
    assert app_client.get("/api/next", headers=auth(a)).json()["task"]["task_id"] == "t0"
    assert app_client.get("/api/next", headers=auth(b)).json()["done"] is True  # a holds it, not expired
    expire_all(store)
    nxt = app_client.get("/api/next", headers=auth(b)).json()  # no waiting for a once-a-minute sweep
    assert nxt["done"] is False and nxt["task"]["task_id"] == "t0"


@pytest.fixture
def one_task(app_client, store, cfg, tmp_path):
    def start(kind="policy-samples", **cfg_fields):
        for k, v in cfg_fields.items():
            setattr(cfg, k, v)
        tasks = make_tasks(1, k=2, kind=kind)
        if kind == "model-comparison":
            tasks[0]["candidates"][1]["source"] = "rl"
        import_tasks(store, write_tasks(tmp_path / "t.jsonl", tasks), cfg)
        tok = invite(store, "ann")
        nxt = app_client.get("/api/next", headers=auth(tok)).json()
        shown = [c["cand_id"] for c in nxt["task"]["candidates"]]

        def post(**body):
            return app_client.post("/api/labels", headers=auth(tok), json={
                "assignment_id": nxt["assignment_id"], "task_id": nxt["task"]["task_id"], **body})
        return post, shown
    return start


@pytest.mark.parametrize("body, needle", [
    ({"outcome": "best", "best": "c0", "edit": {"cand_id": "c1", "text": "better"}}, "edit.cand_id must equal best"),
    ({"outcome": "all_bad", "ratings": {"c0": {"empathy": 2}}}, "takes no edit or ratings"),
    ({"outcome": "all_bad", "edit": {"cand_id": "c0", "text": "better"}}, "edit"),
    ({"outcome": "tie", "edit": {"cand_id": "c0", "text": "better"}}, "edit"),
    ({"outcome": "best", "best": "c0", "ratings": {"c1": {"empathy": 2}}}, "only the chosen reply"),
    ({"outcome": "tie", "extra": 1}, "extra"),
])
def test_api_refuses_what_the_page_never_sends(one_task, body, needle):
    post, _ = one_task()
    r = post(**body)
    assert r.status_code == 422 and needle in r.json()["detail"], r.text


def test_comparison_labels_need_ratings_of_both_replies(one_task):
    post, shown = one_task(kind="model-comparison", criteria=["empathy"])
    r = post(outcome="best", best=shown[0])
    assert r.status_code == 422 and "rate reply 1 for ['empathy']" in r.json()["detail"]
    r = post(outcome="best", best=shown[0], ratings={shown[0]: {"empathy": 4}})
    assert r.status_code == 422 and "rate reply 2" in r.json()["detail"]
    ok = post(outcome="best", best=shown[0], ratings={shown[0]: {"empathy": 4}, shown[1]: {"empathy": 2}})
    assert ok.status_code == 200 and ok.json()["created"] is True


@pytest.mark.parametrize("path, method", [("/api/labels", "post"), ("/api/labels/1180591620717411303424", "get")])
def test_huge_integers_are_422_not_500(one_task, app_client, store, path, method):
    one_task()
    if method == "post":
        r = app_client.post(path, headers=auth(invite(store, "x")),
                            json={"assignment_id": 2**70, "task_id": "t0", "outcome": "tie"})
    else:
        r = app_client.get(path, headers=auth(invite(store, "y")))
    assert r.status_code == 422


def test_two_requests_releasing_one_expired_reservation_give_its_slot_back_once(postgres_url, tmp_path):
    """PostgreSQL, READ COMMITTED: both requests see the stale reservation; only the one whose DELETE removed it may
    return the slot, else a quota-1 task ends with two people holding it."""
    import threading
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import func, select, update

    from empathic_rlhf.label import assign
    from empathic_rlhf.label.config import LabelConfig
    from empathic_rlhf.label.db import Store
    from empathic_rlhf.label.models import Annotator, Assignment, Task
    from test_chat_queue import fresh_schema

    fresh_schema(postgres_url)
    store = Store(postgres_url)
    try:
        config = LabelConfig(overlap=1, calibration_fraction=0.0, gold_fraction=0.0)
        import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(1)), config)
        for name in ("a", "b", "c"):
            invite(store, name)
        with store.tx() as s:
            ids = dict(s.execute(select(Annotator.name, Annotator.id)).all())
            assert assign.next_assignment(s, ids["a"], config) is not None
        with store.tx() as s:
            s.execute(update(Assignment).values(served_at=datetime.now(timezone.utc) - timedelta(days=1)))

        released = {}
        with store.tx() as first:
            released["first"] = assign.expire_stale(first, 30)  # holds the row lock until this block commits

            def second():
                with store.tx() as s:
                    released["second"] = assign.expire_stale(s, 30)

            thread = threading.Thread(target=second)
            thread.start()
            thread.join(1.0)  # the second request now waits on the first one's row lock
        thread.join(30)
        assert released == {"first": 1, "second": 0}
        with store.tx() as s:
            assert s.scalar(select(Task.remaining)) == 1
        holders = []
        for name in ("b", "c"):
            with store.tx() as s:
                holders.append(assign.next_assignment(s, ids[name], config) is not None)
        with store.tx() as s:
            assert s.scalar(select(func.count()).select_from(Assignment).where(Assignment.holds_slot)) == 1
        assert holders == [True, False]
    finally:
        store.close()
        fresh_schema(postgres_url)
