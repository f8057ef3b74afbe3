"""A first-time annotator on a phone (390 x 844, touch; Debian's chromium via Playwright against a real server):
the criteria and what Tie / All bad / Skip mean are on the page for the first labels; every reply of four, under a
three-turn dialogue, can be compared and chosen with all of them in view (choosing moves nothing); every tap target
is at least 44 px and no key hint shows; Undo brings the earlier answer back selected; a refused label is said at
the top, on the "All done" page too; and that page finds work freed later by itself."""

from __future__ import annotations

import re

import httpx
from label_helpers import auth, ed_tasks, make_tasks
from playwright.sync_api import expect

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
BOXES = "els => els.map(e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}; })"
# everything a finger can hit; radios are drawn by their labels (the inputs themselves are 1 px and transparent)
TARGETS = "button, a, summary, label, textarea, input:not([type=radio])"


def open_page(browser, server, token, **page_args):
    page = browser.new_page(**page_args)
    page.goto(f"{server.base}/join/{token}")
    page.wait_for_selector("#task:not([hidden]), #done:not([hidden])")
    return page


def label_via_api(server, token, n: int) -> None:
    with httpx.Client(base_url=server.base, headers=auth(token)) as client:
        for _ in range(n):
            nxt = client.get("/api/next").json()
            client.post("/api/labels", json={"assignment_id": nxt["assignment_id"], "task_id": nxt["task"]["task_id"],
                                             "outcome": "tie"}).raise_for_status()


def band(page) -> tuple[float, float]:
    """The part of the screen between the top bar and the action bar."""
    top = page.locator("header.bar").bounding_box()
    bottom = page.locator(".actions").bounding_box()
    return top["y"] + top["height"], bottom["y"]


def replies(page) -> list[dict]:
    return page.locator("#candidates .cand").evaluate_all(BOXES)


def all_in(boxes, lo: float, hi: float) -> bool:
    return all(b["y"] >= lo - 0.5 and b["y"] + b["h"] <= hi + 0.5 for b in boxes)


def visible_boxes(page, selector: str = TARGETS) -> list[tuple[str, dict]]:
    out = []
    for loc in page.locator(selector).all():
        if loc.is_visible():
            box = loc.bounding_box()
            out.append(((loc.get_attribute("id") or loc.inner_text()[:30]).strip(), box))
    return out


def test_the_first_labels_show_the_criteria_and_what_the_buttons_mean(browser, live):
    server, tok = live(make_tasks(8, k=3))
    page = open_page(browser, server, tok["ann"], **PHONE)
    criteria = page.locator("#criteria")
    expect(criteria).to_have_attribute("open", "")
    text = criteria.inner_text()
    for crit in ("Empathy", "Relevance", "Fluency"):
        assert re.search(crit + r": \S", text), text  # one line each, on the page, not behind "?"
        line = criteria.locator("li", has_text=crit).bounding_box()
        assert line["height"] < 25  # one line on a 390 px screen
    assert "optional" in text  # the 1-5 ratings are optional (they are)
    _, hi = band(page)
    assert criteria.bounding_box()["y"] + criteria.bounding_box()["height"] < hi  # on screen at once
    explains = [page.locator(f"[data-outcome={o}] .explain") for o in ("tie", "all_bad", "skip")]
    assert [e.inner_text() for e in explains] == ["equally good", "none is OK", "can't judge"]
    assert all(e.is_visible() for e in explains)
    assert page.locator("#help").inner_text().strip() == "? Help"  # the ? button says what it is
    page.locator("#candidates .pick").first.tap()
    assert "optional" in page.locator("#after h3").first.inner_text()
    page.close()

    label_via_api(server, tok["ann"], 5)  # past the first labels: one line that opens them, no captions
    page = open_page(browser, server, tok["ann"], **PHONE)
    assert page.locator("#criteria").get_attribute("open") is None
    assert page.locator("#criteria summary").is_visible()
    assert not page.locator("[data-outcome=tie] .explain").is_visible()
    page.locator("#criteria summary").tap()
    expect(page.locator("#criteria li").first).to_be_visible()
    page.close()


def test_every_reply_can_be_chosen_with_all_four_in_view(browser, live, tmp_path):
    """Four replies under a three-turn dialogue and the situation: once the replies are scrolled to, all four are
    between the top bar and the action bar, and tapping any of them moves none of them (the ratings open below
    the last one)."""
    server, tok = live(ed_tasks(8))
    page = open_page(browser, server, tok["ann"], **PHONE)
    lo, hi = band(page)
    assert len(replies(page)) == 4 and len(page.locator("#history .turn").all()) == 3
    assert page.locator("#criteria").get_attribute("open") == ""  # the longest page: criteria open
    page.locator("#candidates .cand").last.scroll_into_view_if_needed()
    before = replies(page)
    assert all_in(before, lo, hi), (before, lo, hi)
    for i in range(4):
        page.locator("#candidates .pick").nth(i).tap()
        expect(page.locator("#candidates .cand").nth(i)).to_have_class(re.compile(r"\bchosen\b"))
        after = replies(page)
        assert after == before, f"choosing reply {i + 1} moved the replies"
        assert all_in(after, lo, hi)
        ratings = page.locator("#after").bounding_box()
        assert ratings["y"] >= before[-1]["y"] + before[-1]["h"]  # below every reply
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "chosen.png"))
    page.close()

    label_via_api(server, tok["ann"], 5)  # an ordinary task (criteria folded): all four on screen as it opens
    page = open_page(browser, server, tok["ann"], **PHONE)
    lo, hi = band(page)
    assert page.evaluate("window.scrollY") == 0 and all_in(replies(page), lo, hi)
    page.close()


def test_every_tap_target_is_44px_and_no_key_hints_on_a_phone(browser, live):
    tasks = ed_tasks(2)
    tasks[0]["candidates"][1]["text"] = "A very long reply. " * 40  # "Show all" appears
    tasks[0]["history"][0]["text"] = "A long first turn. " * 40
    server, tok = live(tasks)
    page = open_page(browser, server, tok["ann"], **PHONE)
    page.locator("#candidates .pick").nth(2).tap()  # ratings and "write a better version" appear
    checked = {}
    for state in ("chosen", "editing"):
        if state == "editing":
            page.locator("#after .link").tap()
            expect(page.locator("textarea.edit")).to_be_visible()
        for name, box in visible_boxes(page):
            checked[name] = box
            assert box["width"] >= 44 and box["height"] >= 44, f"{state}: {name!r} is {box['width']}x{box['height']}"
    for needed in ("undo", "help", "toggle-situation", "submit", "What makes a reply best?"):
        assert needed in checked, sorted(checked)
    assert any(n.startswith("Show all") for n in checked) and sum(n in {"1", "2", "3", "4", "5"} for n in checked) == 5
    assert all(not k.is_visible() for k in page.locator("kbd, .hint").all())  # no keys on a touch screen
    assert "(E)" not in page.locator("body").inner_text()
    page.close()
    label_via_api(server, tok["ann"], 2)
    page = open_page(browser, server, tok["ann"], **PHONE)
    expect(page.locator("#done")).to_be_visible()
    for name, box in visible_boxes(page):
        assert box["width"] >= 44 and box["height"] >= 44, name
    page.close()


def test_undo_brings_the_task_back_with_the_earlier_answer_selected(browser, live):
    server, tok = live(make_tasks(3, k=3))
    page = open_page(browser, server, tok["ann"])
    page.keyboard.press("2")
    page.locator("#after label[for$='-empathy-4']").click()
    chosen = page.locator("#candidates .pick .text").nth(1).inner_text()
    page.keyboard.press("Enter")
    expect(page.locator("#progress-text")).to_have_text(re.compile("^1 done"))
    page.locator("#undo").click()
    expect(page.locator("#progress-text")).to_have_text(re.compile("^0 done"))
    expect(page.locator("#candidates .cand.chosen")).to_have_count(1)
    assert page.locator("#candidates .cand.chosen .text").inner_text() == chosen
    assert page.locator("#after input[data-crit='empathy']:checked").get_attribute("value") == "4"
    assert page.locator("#submit").is_enabled()
    expect(page.locator("#notice")).to_contain_text("earlier answer is selected")
    page.keyboard.press("Enter")  # submitted again as it was
    expect(page.locator("#progress-text")).to_have_text(re.compile("^1 done"))
    labels = httpx.get(f"{server.base}/api/labels", headers=auth(tok["ann"])).json()["labels"]
    assert len(labels) == 1 and labels[0]["ratings"] == {labels[0]["best"]: {"empathy": 4}}
    page.close()


def test_a_refused_label_is_announced_on_the_done_page(browser, live, tmp_path):
    """A stale tab submits after its reservation went away and nothing is left: the page says "NOT saved" at the
    top of "All done", on screen, instead of only "All done — thank you!"."""
    import sqlite3

    server, tok = live(make_tasks(1, k=2))
    page = open_page(browser, server, tok["ann"], **PHONE)
    db = sqlite3.connect(str(tmp_path / "live.db"))
    db.execute("DELETE FROM assignments")  # the reservation expired and was swept; the task is not open again
    db.commit()
    db.close()
    page.locator("#candidates .pick").first.tap()
    page.locator("#submit").tap()
    expect(page.locator("#done")).to_be_visible()
    notice = page.locator("#notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("NOT saved")
    box = notice.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 844
    assert box["y"] < page.locator("#done h2").bounding_box()["y"]  # above "All done", where one looks first
    assert httpx.get(f"{server.base}/api/labels", headers=auth(tok["ann"])).json()["labels"] == []
    page.close()


def test_the_done_page_picks_up_freed_work(browser, live, tmp_path):
    """Everything is reserved by someone else, so the page says "All done"; when that person skips, the slot is
    free again and the open page shows the task by itself (it looks every done_poll_seconds, and says so)."""
    from empathic_rlhf.label.auth import invite
    from empathic_rlhf.label.db import Store

    server, tok = live(make_tasks(1, k=2), "--label.done_poll_seconds=1")
    store = Store(f"sqlite:///{tmp_path / 'live.db'}")
    other = invite(store, "other")
    store.close()
    with httpx.Client(base_url=server.base, headers=auth(other)) as client:
        held = client.get("/api/next").json()
        page = open_page(browser, server, tok["ann"], **PHONE)
        expect(page.locator("#done")).to_be_visible()
        assert re.search(r"looks for new work every 1 second while it is open", page.locator("#done").inner_text())
        client.post("/api/labels", json={"assignment_id": held["assignment_id"], "task_id": held["task"]["task_id"],
                                         "outcome": "skip"}).raise_for_status()
    expect(page.locator("#task")).to_be_visible(timeout=15_000)
    assert page.locator("#candidates .cand").count() == 2
    page.locator("#candidates .pick").first.tap()
    page.locator("#submit").tap()
    expect(page.locator("#done")).to_be_visible()
    assert len(httpx.get(f"{server.base}/api/labels", headers=auth(tok["ann"])).json()["labels"]) == 1
    page.close()
