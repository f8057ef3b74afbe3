"""The live chat through the HTTP API (in-process app, real SQLite): consent first, the reply schedule, a choice
stored as a live-chat task + human label that `label export` carries, isolation between people, deletion. The
worker's side is played by ``chat_store.claim_jobs`` / ``finish_job`` with fixed texts (the real worker and model
run in test_chat_browser.py and test_chat_worker.py)."""

from __future__ import annotations

import pytest
from label_helpers import auth, make_tasks, write_tasks
from sqlalchemy import func, select

from empathic_rlhf.label import chat_store
from empathic_rlhf.label.auth import invite
from empathic_rlhf.label.config import LabelConfig
from empathic_rlhf.label.export import export_records
from empathic_rlhf.label.models import Assignment, Chat, ChatJob, ChatTurn, Label, Task

CONSENT = {"consent": True, "consent_version": chat_store.CONSENT_VERSION}


@pytest.fixture
def chat_cfg():
    return LabelConfig(calibration_fraction=0.0, gold_fraction=0.0, chat_enabled=True, chat_choice_every=2,
                       chat_candidates=3, chat_max_turns=3, chat_max_messages=4, chat_message_chars=50)


@pytest.fixture
def client(store, chat_cfg):
    from fastapi.testclient import TestClient

    from empathic_rlhf.label.app import create_app

    with TestClient(create_app(store, chat_cfg)) as c:
        yield c


def counts(store) -> dict:
    with store.read() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m))
                for m in (Chat, ChatTurn, ChatJob, Task, Assignment, Label)}


def answer(store, texts_by_k: dict[int, list[str]], worker: str = "w") -> list:
    """Play the worker: claim every queued job and answer it with fixed texts (k of them)."""
    jobs = chat_store.claim_jobs(store, worker, 50, 60.0)
    for job in jobs:
        assert chat_store.finish_job(store, job, texts_by_k[job.k][:job.k], "tiny-policy", {"temperature": 0.7})
    return jobs


def say(client, token, chat_id, text):
    r = client.post("/api/chat/messages", headers=auth(token), json={"chat_id": chat_id, "text": text})
    assert r.status_code == 200, r.text
    return r.json()


def test_nothing_is_stored_without_consent_and_the_page_is_off_unless_enabled(client, store, tmp_path):
    tok = invite(store, "ann")
    before = counts(store)
    assert client.get("/api/chat", headers=auth(tok)).json()["chats"] == []
    assert client.post("/api/chat/start", headers=auth(tok), json={**CONSENT, "consent": False}).status_code == 422
    stale = client.post("/api/chat/start", headers=auth(tok), json={**CONSENT, "consent_version": "0"})
    assert stale.status_code == 409  # a page showing an older consent text cannot start a conversation
    assert client.post("/api/chat/messages", headers=auth(tok), json={"chat_id": 1, "text": "hi"}).status_code == 404
    assert counts(store) == before == {"chats": 0, "chat_turns": 0, "chat_jobs": 0, "tasks": 0, "assignments": 0,
                                       "labels": 0}

    from fastapi.testclient import TestClient

    from empathic_rlhf.label.app import create_app

    with TestClient(create_app(store, LabelConfig())) as off:  # chat_enabled defaults to off
        assert off.get(f"/chat/{tok}").status_code == 404
        assert off.post("/api/chat/start", headers=auth(tok), json=CONSENT).status_code == 404


def test_consent_text_version_in_the_page_matches_the_server():
    import re

    from empathic_rlhf.label.app import STATIC

    html = (STATIC / "chat.html").read_text()
    assert re.search(r'id="consent"[^>]*data-version="([^"]+)"', html).group(1) == chat_store.CONSENT_VERSION


def test_every_second_reply_is_a_choice_stored_as_a_live_chat_label(client, store, chat_cfg):
    tok = invite(store, "ann")
    chat_id = client.post("/api/chat/start", headers=auth(tok), json=CONSENT).json()["chat_id"]
    view = say(client, tok, chat_id, "I lost my job today.")
    assert view["pending"]["status"] == "queued" and view["pending"]["k"] == 1
    assert client.post("/api/chat/messages", headers=auth(tok),  # one reply at a time
                       json={"chat_id": chat_id, "text": "hello?"}).status_code == 409
    texts = {1: ["That is hard. What happened?"], 3: ["Oh no.", "I am sorry, that must hurt.", "Okay."]}
    answer(store, texts)
    view = say(client, tok, chat_id, "They closed the shop.")
    assert [t["role"] for t in view["turns"]] == ["user", "assistant", "user"]
    assert view["pending"]["k"] == 3
    answer(store, texts)
    pending = client.get(f"/api/chat/{chat_id}", headers=auth(tok)).json()["pending"]
    assert pending["status"] == "ready" and [c["text"] for c in pending["candidates"]] == texts[3]
    assert client.post("/api/chat/messages", headers=auth(tok),  # the choice comes first
                       json={"chat_id": chat_id, "text": "so?"}).status_code == 409

    choice = {"chat_id": chat_id, "job_id": pending["job_id"], "best": "c1", "seconds": 3.5}
    bad = client.post("/api/chat/choice", headers=auth(tok), json={**choice, "best": "c7"})
    assert bad.status_code == 422
    view = client.post("/api/chat/choice", headers=auth(tok), json=choice).json()
    assert view["created"] is True and view["pending"] is None
    assert view["turns"][-1] == {"role": "assistant", "text": "I am sorry, that must hurt."}
    again = client.post("/api/chat/choice", headers=auth(tok), json=choice).json()  # a retried request
    assert again["created"] is False and counts(store)["labels"] == 1

    labels, pairs, tasks = export_records(store)
    [task], [label] = tasks, labels
    assert task.kind == "live-chat" and task.task_id == f"chat:{chat_id}:3"
    # the prompt is the real conversation as the policy saw it (chat_max_turns = 3 newest turns)
    assert [(m.role, m.content) for m in task.prompt] == [
        ("user", "I lost my job today."), ("assistant", "That is hard. What happened?"),
        ("user", "They closed the shop.")]
    assert [t.role for t in task.history] == ["speaker", "listener", "speaker"]
    assert {c.source for c in task.candidates} == {"tiny-policy"} and task.sampling["worker"] == "w"
    assert (label.annotator, label.source, label.outcome, label.best, label.seconds) == ("ann", "human", "best",
                                                                                          "c1", 3.5)
    assert sorted(p.rejected[0].content for p in pairs) == ["Oh no.", "Okay."]
    assert {p.chosen[0].content for p in pairs} == {"I am sorry, that must hurt."}

    # the labelling page neither serves the chat's task nor undoes its label
    assert client.get("/api/next", headers=auth(tok)).json()["done"] is True
    assert client.post("/api/undo", headers=auth(tok)).json()["undone"] is None
    assert counts(store)["labels"] == 1


def test_the_policy_sees_only_the_newest_turns(client, store, chat_cfg):
    tok = invite(store, "ann")
    chat_id = client.post("/api/chat/start", headers=auth(tok), json=CONSENT).json()["chat_id"]
    widths = []
    for i in range(3):
        say(client, tok, chat_id, f"message {i}")
        [job] = chat_store.claim_jobs(store, "w", 5, 60.0)
        widths.append(job.k)
        chat_store.finish_job(store, job, [f"reply {i}", f"other {i}", f"third {i}"][:job.k], "p", {})
        if job.k > 1:
            client.post("/api/chat/choice", headers=auth(tok), json={"chat_id": chat_id, "job_id": job.id,
                                                                      "best": "c0"})
    assert widths == [1, 3, 1]  # chat_choice_every = 2: the 2nd and 4th replies are choices
    say(client, tok, chat_id, "message 3")
    [job] = chat_store.claim_jobs(store, "w", 5, 60.0)
    assert job.k == 3 and [m["content"] for m in job.prompt] == ["message 2", "reply 2", "message 3"]
    assert client.post("/api/chat/messages", headers=auth(tok),  # chat_max_messages = 4 reached
                       json={"chat_id": chat_id, "text": "x"}).status_code == 409


def test_bad_messages_are_refused(client, store):
    tok = invite(store, "ann")
    chat_id = client.post("/api/chat/start", headers=auth(tok), json=CONSENT).json()["chat_id"]
    for text, status in (("   ", 422), ("x" * 51, 422), ("a\x00b", 422)):
        r = client.post("/api/chat/messages", headers=auth(tok), json={"chat_id": chat_id, "text": text})
        assert r.status_code == status, text
    r = client.post("/api/chat/messages", headers=auth(tok), json={"chat_id": chat_id, "text": 5})
    assert r.status_code == 422 and "text" in r.json()["detail"]
    huge = client.post("/api/chat/messages", headers=auth(tok), json={"chat_id": chat_id, "text": "x" * 200_000})
    assert huge.status_code == 413  # refused by the body limit before it is read
    assert client.post("/api/chat/start", headers=auth(tok), json={**CONSENT, "pad": "x" * 2000}).status_code == 413
    assert counts(store)["chat_turns"] == 0


def test_people_see_only_their_own_conversations_and_admins_none(client, store):
    ann, bob, boss = invite(store, "ann"), invite(store, "bob"), invite(store, "boss", admin=True)
    chat_id = client.post("/api/chat/start", headers=auth(ann), json=CONSENT).json()["chat_id"]
    say(client, ann, chat_id, "private")
    assert client.get(f"/api/chat/{chat_id}", headers=auth(bob)).status_code == 404
    assert client.get("/api/chat", headers=auth(bob)).json()["chats"] == []
    assert client.delete(f"/api/chat/{chat_id}", headers=auth(bob)).status_code == 404
    assert client.post("/api/chat/messages", headers=auth(bob), json={"chat_id": chat_id, "text": "x"}).status_code == 404
    assert client.get("/api/chat", headers=auth(boss)).status_code == 403
    assert client.get(f"/chat/{boss}").status_code == 403 and client.get(f"/chat/{ann}").status_code == 200
    assert client.get(f"/chat/{ann}").headers["cache-control"] == "no-store"


def test_deleting_a_conversation_removes_its_labels_and_keeps_everything_else(client, store, cfg, tmp_path):
    from empathic_rlhf.label.tasks import import_tasks

    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(2)), cfg)
    ann = invite(store, "ann")
    nxt = client.get("/api/next", headers=auth(ann)).json()  # one ordinary label, which must survive
    client.post("/api/labels", headers=auth(ann), json={"assignment_id": nxt["assignment_id"], "outcome": "tie",  # (answers with t1 reserved)
                                                        "task_id": nxt["task"]["task_id"]})
    chats = []
    for _ in range(2):
        chat_id = client.post("/api/chat/start", headers=auth(ann), json=CONSENT).json()["chat_id"]
        say(client, ann, chat_id, "first")
        answer(store, {1: ["r1"]})
        say(client, ann, chat_id, "second")
        [job] = answer(store, {3: ["a", "b", "c"]})
        client.post("/api/chat/choice", headers=auth(ann), json={"chat_id": chat_id, "job_id": job.id, "best": "c0"})
        chats.append(chat_id)
    assert counts(store)["labels"] == 3
    r = client.delete(f"/api/chat/{chats[0]}", headers=auth(ann)).json()
    assert r["deleted"] == {"chats": 1, "labels": 1, "tasks": 1, "wiped": True}
    assert [t.task_id for t in export_records(store)[2]] == ["t0", f"chat:{chats[1]}:3"]
    say(client, ann, chats[1], "third")  # a job still queued when the chat goes
    [job] = chat_store.claim_jobs(store, "w", 5, 60.0)
    assert client.delete("/api/chat", headers=auth(ann)).json()["deleted"]["chats"] == 1
    assert chat_store.finish_job(store, job, ["late"], "p", {}) is False  # the worker's late answer goes nowhere
    assert counts(store) == {"chats": 0, "chat_turns": 0, "chat_jobs": 0, "tasks": 2, "assignments": 2, "labels": 1}
    assert [t.task_id for t in export_records(store)[2]] == ["t0"]


def test_a_failed_reply_can_be_retried(client, store):
    tok = invite(store, "ann")
    chat_id = client.post("/api/chat/start", headers=auth(tok), json=CONSENT).json()["chat_id"]
    say(client, tok, chat_id, "hello")
    [job] = chat_store.claim_jobs(store, "w", 5, 60.0)
    assert chat_store.fail_job(store, job, "RuntimeError: out of memory")
    pending = client.get(f"/api/chat/{chat_id}", headers=auth(tok)).json()["pending"]
    assert (pending["status"], pending["error"]) == ("failed", "RuntimeError: out of memory")
    assert client.post("/api/chat/retry", headers=auth(tok), json={"chat_id": chat_id}).json()["pending"]["status"] \
        == "queued"
    [again] = chat_store.claim_jobs(store, "w", 5, 60.0)
    assert (again.id, again.attempts) == (job.id, 2)


def test_long_poll_answers_when_the_reply_arrives(client, store):
    import threading
    import time

    tok = invite(store, "ann")
    chat_id = client.post("/api/chat/start", headers=auth(tok), json=CONSENT).json()["chat_id"]
    job_id = say(client, tok, chat_id, "hello")["pending"]["job_id"]

    def late_worker():
        time.sleep(1.0)
        answer(store, {1: ["hi there"]})
    threading.Thread(target=late_worker).start()
    started = time.monotonic()
    view = client.get(f"/api/chat/{chat_id}?wait_job={job_id}&wait=10", headers=auth(tok)).json()
    waited = time.monotonic() - started
    assert view["turns"][-1]["text"] == "hi there" and view["pending"] is None
    assert 0.9 < waited < 8  # it waited for the reply, not for the whole 10 s


def test_invite_prints_the_chat_link_when_the_chat_is_on(tmp_path, capsys):
    from empathic_rlhf.label.commands import main

    db = f"sqlite:///{tmp_path / 'i.db'}"
    assert main(["invite", "zoe", "--db", db]) == 0
    assert len(capsys.readouterr().out.split()) == 1  # chat off: the labelling link only
    assert main(["invite", "yan", "--db", db, "--label.chat_enabled=true"]) == 0
    join, chat = capsys.readouterr().out.split()
    assert chat == join.replace("/join/", "/chat/")
