"""A real browser (Debian's chromium via Playwright) against a real server process: join by invite link, label
three tasks with the keyboard (two keys each), undo one, watch the progress; and a phone-sized layout check."""

from __future__ import annotations

import httpx
from label_helpers import auth, make_tasks


def progress_starts(page, text: str) -> None:
    """Wait until the progress line starts with ``text`` (Playwright's expect: no string eval, which the page's
    Content-Security-Policy forbids)."""
    import re

    from playwright.sync_api import expect

    expect(page.locator("#progress-text")).to_have_text(re.compile("^" + re.escape(text)), timeout=10_000)


def history_text(page) -> str:
    return page.locator("#history").inner_text()


def test_keyboard_labelling_two_keys_per_label_with_undo(browser, live):
    server, tok = live(make_tasks(5, k=3))
    page = browser.new_page()
    page.goto(f"{server.base}/join/{tok['ann']}")
    page.wait_for_selector("#task:not([hidden])")
    page.evaluate("window.__sameDocument = true")  # survives only if the page never fully reloads
    assert page.locator("#progress-text").inner_text() == "0 done · 5 left"

    keystrokes, seen = [], []
    for n, key in enumerate(["1", "2", "3"], start=1):
        seen.append(history_text(page))
        shown = page.locator("#candidates .pick .text").all_inner_texts()
        presses = [key, "Enter"]
        for press in presses:
            page.keyboard.press(press)
        keystrokes.append(len(presses))
        progress_starts(page, f"{n} done")
        assert history_text(page) != seen[-1]  # the next task replaced this one
        seen[-1] = (seen[-1], shown[int(key) - 1])
    assert keystrokes == [2, 2, 2]

    page.keyboard.press("u")  # undo the third label: its task comes back and progress goes down
    progress_starts(page, '2 done')
    assert history_text(page) == seen[2][0]
    assert page.evaluate("window.__sameDocument") is True

    stored = httpx.get(f"{server.base}/api/labels", headers=auth(tok["ann"])).json()["labels"]
    assert len(stored) == 2
    texts = {t["task_id"]: {c["cand_id"]: c["text"] for c in t["candidates"]} for t in make_tasks(5, k=3)}
    # what was stored is what the annotator saw under the key they pressed
    assert [texts[s["task_id"]][s["best"]] for s in stored] == [seen[0][1], seen[1][1]]
    assert all(s["outcome"] == "best" and 0 < s["seconds"] < 600 for s in stored)
    page.close()


def test_tie_skip_edit_and_situation_toggle_by_click(browser, live):
    server, tok = live(make_tasks(3, k=2))
    page = browser.new_page()
    page.goto(f"{server.base}/join/{tok['ann']}")
    page.wait_for_selector("#task:not([hidden])")
    assert page.locator("#situation").is_visible()
    page.click("#toggle-situation")
    assert not page.locator("#situation").is_visible()
    page.click("text=Tie")
    page.click("#submit")
    progress_starts(page, '1 done')
    page.locator("#candidates .pick").nth(1).click()
    page.locator("#after label[for$='-empathy-4']").click()
    page.keyboard.press("e")
    page.locator("textarea.edit").fill("I am so sorry about your dog.")
    page.keyboard.press("Control+Enter")
    progress_starts(page, '2 done')
    labels = httpx.get(f"{server.base}/api/labels", headers=auth(tok["ann"])).json()["labels"]
    assert labels[0]["outcome"] == "tie"
    best = labels[1]["best"]
    assert labels[1]["ratings"] == {best: {"empathy": 4}}
    assert labels[1]["edit"] == {"cand_id": best, "text": "I am so sorry about your dog."}
    page.close()


def test_phone_viewport_fits_without_sideways_scrolling(browser, live, tmp_path):
    tasks = make_tasks(2, k=4)
    tasks[0]["candidates"][0]["text"] = "A much longer reply " * 12
    server, tok = live(tasks)
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                            has_touch=True)
    page.goto(f"{server.base}/join/{tok['ann']}")
    page.wait_for_selector("#task:not([hidden])")
    page.locator("#candidates .pick").first.tap()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    heights = [b["height"] for b in page.locator("#candidates .pick").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect())")]
    assert len(heights) == 4 and min(heights) >= 44  # comfortable tap targets
    submit = page.locator("#submit").bounding_box()
    assert submit["y"] + submit["height"] <= 844  # the action bar is on screen without scrolling
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=False)
    page.close()
