"""More of the page in a real browser: long replies collapse on a phone, ratings by keyboard, 44 px rating
targets, an unsaved label is reported, and the admin page fits a phone with formatted numbers and plots."""

from __future__ import annotations

import re

import httpx
from label_helpers import auth, make_tasks
from playwright.sync_api import expect

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def open_task(browser, server, token, **page_args):
    page = browser.new_page(**page_args)
    page.goto(f"{server.base}/join/{token}")
    page.wait_for_selector("#task:not([hidden])")
    return page


def test_long_reply_is_collapsed_on_a_phone(browser, live):
    tasks = make_tasks(1, k=2)
    tasks[0]["candidates"][0]["text"] = "word " * 4000  # 20,000 characters
    server, tok = live(tasks)
    page = open_task(browser, server, tok["ann"], **PHONE)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 2000  # it was ~13,500 px
    page.get_by_text(re.compile("Show all")).first.click()
    assert page.evaluate("document.documentElement.scrollHeight") > 5 * height  # the whole text is there
    page.close()


def test_digit_on_a_focused_rating_sets_the_rating(browser, live):
    server, tok = live(make_tasks(1, k=3))
    page = open_task(browser, server, tok["ann"])
    page.keyboard.press("2")  # choose reply 2: its ratings appear
    ratings = page.locator("#after")  # the chosen reply's ratings, below the replies
    ratings.locator("input[data-crit='empathy']").first.focus()
    page.keyboard.press("4")
    assert page.locator("#candidates .cand").nth(1).get_attribute("class") == "cand chosen"  # still reply 2
    assert ratings.locator("input[data-crit='empathy']:checked").get_attribute("value") == "4"
    assert "Reply 2 chosen" in ratings.inner_text() and "1 = poor · 5 = excellent" in ratings.inner_text()
    page.keyboard.press("Enter")
    expect(page.locator("#progress-text")).to_have_text(re.compile("^1 done"))
    stored = httpx.get(f"{server.base}/api/labels", headers=auth(tok["ann"])).json()["labels"]
    assert stored[0]["ratings"] == {stored[0]["best"]: {"empathy": 4}}
    page.close()


def test_rating_targets_are_44px_on_a_phone(browser, live):
    server, tok = live(make_tasks(1, k=2))
    page = open_task(browser, server, tok["ann"], **PHONE)
    page.locator("#candidates .pick").first.tap()
    boxes = page.locator("#after .rate label").evaluate_all("els => els.map(e => e.getBoundingClientRect())")
    assert len(boxes) == 15 and min(min(b["width"], b["height"]) for b in boxes) >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()


def test_an_unsaved_label_is_reported(browser, live, tmp_path):
    import sqlite3
    server, tok = live(make_tasks(3, k=2))
    page = open_task(browser, server, tok["ann"])
    db = sqlite3.connect(str(tmp_path / "live.db"))
    db.execute("DELETE FROM assignments")  # the reservation is gone (expired and swept)
    db.commit()
    db.close()
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    notice = page.locator("#notice")  # at the top, above the task that follows (not below it, easy to miss)
    expect(notice).to_contain_text("NOT saved")
    expect(notice).to_contain_text("Please label this task")
    assert notice.bounding_box()["y"] < page.locator("#task").bounding_box()["y"]
    assert page.evaluate("window.scrollY") == 0
    assert httpx.get(f"{server.base}/api/labels", headers=auth(tok["ann"])).json()["labels"] == []
    page.close()


def test_admin_page_fits_a_phone_with_readable_numbers_and_plots(browser, live, tmp_path):
    from empathic_rlhf.label.auth import invite
    from empathic_rlhf.label.config import LabelConfig
    from empathic_rlhf.label.db import Store

    server, tok = live(make_tasks(12, k=2), "--label.overlap=2",
                       config=LabelConfig(overlap=2, calibration_fraction=0.0, gold_fraction=0.0))
    store = Store(f"sqlite:///{tmp_path / 'live.db'}")  # a second annotator: overlap, so agreement has points
    tok["ann2"] = invite(store, "ann2")
    store.close()
    for name in ("ann", "ann2"):
        with httpx.Client(base_url=server.base, headers=auth(tok[name])) as client:
            nxt = client.get("/api/next").json()
            while not nxt["done"]:
                best = nxt["task"]["candidates"][0]["cand_id"]
                nxt = client.post("/api/labels", json={"assignment_id": nxt["assignment_id"], "task_id":
                                                       nxt["task"]["task_id"], "outcome": "best", "best": best}
                                  ).json()["next"]
    page = browser.new_page(**PHONE)
    page.goto(f"{server.base}/admin/{tok['boss']}")
    expect(page.locator("#status")).to_have_text(re.compile("^Updated"), timeout=30_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator(".plots svg.chart").count() == 3  # labels per hour, per annotator, agreement
    assert "nothing yet" not in page.locator(".plots").inner_text()
    text = page.locator("body").inner_text()
    assert not re.search(r"\d\.\d{4,}", text), text  # no raw fractions such as 0.41234
    assert not re.search(r"\d{4,}\.\d", text), text  # no raw large floats such as 24073.300
    # the tables scroll in their box and never break a word or a number ("hu/m/an", "0.2/5"): one line per row
    rows = page.locator(".scroll tr").evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    assert rows and max(rows) < 40, rows
    box = page.locator("#annotators").locator("xpath=..")
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # 9 columns: wider than a phone, scrolled in place
    assert "human" in page.locator("#annotators").inner_text().split()
    bias = page.locator("#bias").inner_text()
    assert re.search(r"p (< 0\.001|0\.\d{3})\)", bias) and "0.000" not in bias
    page.close()
