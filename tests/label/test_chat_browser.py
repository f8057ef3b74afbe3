"""The live-chat page in a real browser (Debian's chromium via Playwright) against a real server process and a real
`label worker` process running a tiny locally built policy: consent, a message, the reply, a choice by keyboard
(and by tap on a phone), the choice in `label export` as a live-chat task with the person's label, deletion from
the page; and a person who does not consent leaves nothing in the database."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from empathic_rlhf.label.models import Chat, ChatJob, ChatTurn, Label, Task

CHAT_SETTINGS = ("--label.chat_enabled=true", "--label.chat_choice_every=2", "--label.chat_candidates=2",
                 "--label.chat_max_new_tokens=6")


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory, tiny_gpt2_dir):
    """(server, tokens, db url): a server and one worker process on a fresh SQLite database."""
    from label_helpers import LiveServer

    from empathic_rlhf.label.auth import invite
    from empathic_rlhf.label.db import Store

    folder = tmp_path_factory.mktemp("chat")
    url = f"sqlite:///{folder / 'chat.db'}"
    store = Store(url)
    tokens = {name: invite(store, name) for name in ("ann", "bob", "cat")}
    store.close()
    log = folder / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "empathic_rlhf.label", "worker", "--db", url, "--model",
                                   str(tiny_gpt2_dir), "--worker-name", "w1", "--poll", "0.1", *CHAT_SETTINGS],
                                  stdout=out, stderr=subprocess.STDOUT)
    server = LiveServer(url, *CHAT_SETTINGS).start()
    try:
        for _ in range(1200):  # the worker imports torch and loads the model: wait for its "ready" line
            if b"ready" in log.read_bytes() or worker.poll() is not None:
                break
            time.sleep(0.1)
        assert worker.poll() is None and b"ready" in log.read_bytes(), log.read_text()[-2000:]
        yield server, tokens, url, folder
    finally:
        server.stop()
        worker.terminate()
        worker.wait(30)


def rows(url: str, annotator: str) -> dict:
    from empathic_rlhf.label.db import Store
    from empathic_rlhf.label.models import Annotator

    store = Store(url, upgrade=False)
    try:
        with store.read() as s:
            me = s.scalar(select(Annotator.id).where(Annotator.name == annotator))
            chats = select(Chat.id).where(Chat.annotator_id == me)
            return {"chats": s.scalar(select(func.count()).select_from(Chat).where(Chat.annotator_id == me)),
                    "turns": s.scalar(select(func.count()).select_from(ChatTurn).where(ChatTurn.chat_id.in_(chats))),
                    "jobs": s.scalar(select(func.count()).select_from(ChatJob).where(ChatJob.chat_id.in_(chats))),
                    "labels": s.scalar(select(func.count()).select_from(Label).where(Label.annotator_id == me))}
    finally:
        store.close()


def stored_task(url: str, task_id: str) -> bool:
    from empathic_rlhf.label.db import Store

    store = Store(url, upgrade=False)
    try:
        with store.read() as s:
            return s.scalar(select(func.count()).select_from(Task).where(Task.task_id == task_id)) == 1
    finally:
        store.close()


def export(url: str, out) -> dict:
    """`label export` in its own process, as a user runs it; the three files as lists of objects."""
    subprocess.run([sys.executable, "-m", "empathic_rlhf.label", "export", "--db", url, "--out", str(out)],
                   check=True, capture_output=True)
    return {name: [json.loads(line) for line in (out / f"{name}.jsonl").read_text().splitlines()]
            for name in ("labels", "tasks", "pairs")}


def turns(page, n: int) -> list[str]:
    """Wait until the conversation shows ``n`` turns; their texts."""
    from playwright.sync_api import expect

    expect(page.locator("#turns .turn")).to_have_count(n, timeout=60_000)
    return page.locator("#turns .turn p").all_inner_texts()


def chat_once(page, first: str, second: str) -> list[str]:
    """Consent, two messages: the first reply comes as a turn, the second as a choice. The candidates' texts."""
    from playwright.sync_api import expect

    page.click("#agree")
    page.locator("#message").fill(first)
    page.keyboard.press("Enter")
    assert turns(page, 2)[0] == first
    expect(page.locator("#message")).to_be_enabled()
    page.locator("#message").fill(second)
    page.locator("#send").click()
    page.wait_for_selector("#choice:not([hidden])", timeout=60_000)
    assert turns(page, 3)[2] == second
    return page.locator("#candidates .pick .text").all_inner_texts()


def test_consent_chat_choose_by_key_export_and_delete(browser, chat_server, tmp_path, tiny_gpt2_dir):
    server, tok, url, _ = chat_server
    page = browser.new_page()
    page.goto(f"{server.base}/chat/{tok['ann']}")
    page.wait_for_selector("#consent:not([hidden])")
    assert rows(url, "ann")["chats"] == 0
    candidates = chat_once(page, "I <b>failed</b> my driving test today.", "I practised for months.")
    assert len(candidates) == 2
    assert page.locator("#turns b").count() == 0  # markup in a message is shown as text, never parsed
    page.keyboard.press("2")
    shown = turns(page, 4)
    assert shown[3] == candidates[1]  # the chosen reply is the conversation's next turn
    assert page.locator("#choice").is_hidden()

    files = export(url, tmp_path / "out")
    [label] = [lab for lab in files["labels"] if lab["annotator"] == "ann"]
    [task] = [t for t in files["tasks"] if t["task_id"] == label["task_id"]]
    assert task["kind"] == "live-chat" and label["source"] == "human" and label["outcome"] == "best"
    assert [m["content"] for m in task["prompt"]] == shown[:3]  # the real conversation as context
    assert {c["text"] for c in task["candidates"]} == set(candidates)
    assert next(c["text"] for c in task["candidates"] if c["cand_id"] == label["best"]) == candidates[1]
    assert stored_task(url, task["task_id"]) is True
    assert {c["source"] for c in task["candidates"]} == {str(tiny_gpt2_dir)}  # the policy that wrote them
    assert task["sampling"]["worker"] == "w1" and task["sampling"]["max_new_tokens"] == 6
    if candidates[0].strip() != candidates[1].strip():
        assert [(p["chosen"][0]["content"], p["rejected"][0]["content"]) for p in files["pairs"]
                if p["task_id"] == task["task_id"]] == [(candidates[1], candidates[0])]

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-chat")
    page.wait_for_selector("#consent:not([hidden])")
    assert rows(url, "ann") == {"chats": 0, "turns": 0, "jobs": 0, "labels": 0}
    assert stored_task(url, task["task_id"]) is False
    after = export(url, tmp_path / "after")
    assert not [t for t in after["tasks"] if t["task_id"] == task["task_id"]]
    assert not [lab for lab in after["labels"] if lab["annotator"] == "ann"]
    page.close()


def test_a_person_who_does_not_consent_leaves_nothing(browser, chat_server):
    server, tok, url, _ = chat_server
    page = browser.new_page()
    page.goto(f"{server.base}/chat/{tok['bob']}")
    page.wait_for_selector("#consent:not([hidden])")
    consent = page.locator("#consent").inner_text()
    for promise in ("What is stored", "training data", "delete", "not recalled"):
        assert promise in consent
    assert page.locator("#message").is_hidden()  # no way to write before agreeing
    page.click("#decline")
    page.wait_for_selector("#declined:not([hidden])")
    assert rows(url, "bob") == {"chats": 0, "turns": 0, "jobs": 0, "labels": 0}
    page.close()


def test_phone_choice_by_tap_fits_the_screen(browser, chat_server):
    server, tok, url, folder = chat_server
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                            has_touch=True)
    page.goto(f"{server.base}/chat/{tok['cat']}")
    page.wait_for_selector("#consent:not([hidden])")
    candidates = chat_once(page, "My sister is getting married!", "I am so happy for her.")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    heights = [b["height"] for b in page.locator("#candidates .pick").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect())")]
    assert len(heights) == 2 and min(heights) >= 44
    page.screenshot(path=str(folder / "chat-phone.png"))
    page.locator("#candidates .pick").first.tap()
    assert turns(page, 4)[3] == candidates[0]
    composer = page.locator("#composer").bounding_box()
    assert composer["y"] + composer["height"] <= 844  # the message box stays on screen
    assert rows(url, "cat")["labels"] == 1
    page.close()
