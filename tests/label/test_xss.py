"""Dialogue text is data, never markup: <script> and <img onerror> in a task show up as text and run nothing."""

from __future__ import annotations

from pathlib import Path

from label_helpers import make_tasks

import empathic_rlhf.label as label_pkg

SCRIPT = "<script>window.__xss = 'script'</script>"
IMG = "<img src=x onerror=\"window.__xss = 'img'\">"


def test_static_code_never_uses_html_sinks():
    js = "".join(p.read_text() for p in (Path(label_pkg.__file__).parent / "static").glob("*.js"))
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in js


def test_markup_in_dialogue_is_shown_as_text_and_never_runs(browser, live):
    tasks = make_tasks(1, k=2)
    tasks[0]["candidates"][0]["text"] = SCRIPT
    tasks[0]["candidates"][1]["text"] = IMG
    tasks[0]["history"][0]["text"] = IMG + " hi"
    tasks[0]["situation"] = SCRIPT
    tasks[0]["emotion"] = "<b>sad</b>"
    server, tok = live(tasks)
    page = browser.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{server.base}/join/{tok['ann']}")
    page.wait_for_selector("#task:not([hidden])")
    shown = sorted(page.locator("#candidates .pick .text").all_inner_texts())
    assert shown == sorted([SCRIPT, IMG])
    assert page.locator("#situation").inner_text() == SCRIPT
    assert page.locator("#emotion").inner_text() == "<b>sad</b>"
    assert IMG in page.locator("#history").inner_text()
    assert page.locator("#main img, #main script, #main b").count() == 0
    page.keyboard.press("1")  # re-rendering after a choice must not run anything either
    assert page.evaluate("window.__xss") is None and dialogs == []
    page.close()
