"""What a first-time annotator sees, phone and desktop, with timings: writes the screenshots of docs/labelling.md
("A first evening, timed") to docs/img/ and prints the table of timings. Not a test (pytest does not collect it):

    .venv/bin/python tests/label/walkthrough.py [--out docs/img]

Starts a real server on loopback with a throw-away database and Debian's chromium, like the browser tests."""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from label_helpers import LiveServer, auth, ed_tasks, write_tasks  # noqa: E402

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def main() -> int:
    import httpx
    from playwright.sync_api import expect, sync_playwright

    from empathic_rlhf.label.auth import invite
    from empathic_rlhf.label.config import LabelConfig
    from empathic_rlhf.label.db import Store
    from empathic_rlhf.label.tasks import import_tasks

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(Path(__file__).parents[2] / "docs" / "img"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'walk.db'}"
    store = Store(url)
    import_tasks(store, write_tasks(folder / "t.jsonl", ed_tasks(12)),
                 LabelConfig(calibration_fraction=0.0, gold_fraction=0.0))
    tok = {name: invite(store, name) for name in ("sam", "kim", "lee")}
    store.close()
    server = LiveServer(url, "--label.gold_fraction=0", "--label.done_poll_seconds=2").start()
    rows = []

    def step(who, what, t0):
        rows.append((who, what, (time.perf_counter() - t0) * 1000))

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                         args=["--headless", "--no-sandbox", "--disable-gpu"])
            # phone: the first task, criteria open; a reply chosen; the ratings below it
            page = browser.new_page(**PHONE)
            t0 = time.perf_counter()
            page.goto(f"{server.base}/join/{tok['sam']}")
            page.wait_for_selector("#task:not([hidden])")
            step("phone", "open the invite link: first task on screen", t0)
            page.screenshot(path=str(out / "label-phone-first.png"))
            page.locator("#candidates").scroll_into_view_if_needed()
            page.locator("#candidates .cand").last.scroll_into_view_if_needed()
            t0 = time.perf_counter()
            page.locator("#candidates .pick").first.tap()
            expect(page.locator("#candidates .cand.chosen")).to_have_count(1)
            step("phone", "tap a reply: it is marked, the others stay in place", t0)
            page.screenshot(path=str(out / "label-phone-chosen.png"))
            page.locator("#after").scroll_into_view_if_needed()
            page.screenshot(path=str(out / "label-phone-ratings.png"))
            t0 = time.perf_counter()
            page.locator("#submit").tap()
            expect(page.locator("#progress-text")).to_contain_text("1 done")
            step("phone", "Submit: the next task appears (no page load)", t0)
            # after the first five labels the criteria fold into one line: all four replies on screen at once
            with httpx.Client(base_url=server.base, headers=auth(tok["sam"])) as client:
                for _ in range(4):
                    nxt = client.get("/api/next").json()
                    client.post("/api/labels", json={"assignment_id": nxt["assignment_id"], "outcome": "tie",
                                                     "task_id": nxt["task"]["task_id"]}).raise_for_status()
            page.reload()
            page.wait_for_selector("#task:not([hidden])")
            page.screenshot(path=str(out / "label-phone-later.png"))
            # desktop: the same person's second task
            desk = browser.new_page(**DESKTOP)
            t0 = time.perf_counter()
            desk.goto(f"{server.base}/join/{tok['kim']}")
            desk.wait_for_selector("#task:not([hidden])")
            step("desktop", "open the invite link: first task on screen", t0)
            desk.keyboard.press("2")
            desk.screenshot(path=str(out / "label-desktop-first.png"))
            t0 = time.perf_counter()
            desk.keyboard.press("Enter")
            expect(desk.locator("#progress-text")).to_contain_text("1 done")
            step("desktop", "key 2, Enter: stored, next task on screen", t0)
            # a stale tab: the reservation was taken away; the label is refused and the page says so at the top
            db = sqlite3.connect(str(folder / "walk.db"))
            db.execute("UPDATE tasks SET remaining = 0, is_open = 0")
            db.execute("DELETE FROM assignments WHERE labelled = 0")
            db.commit()
            db.close()
            page.locator("#candidates .pick").nth(1).tap()
            t0 = time.perf_counter()
            page.locator("#submit").tap()
            page.wait_for_selector("#notice:not([hidden])")
            step("phone", "a stale label is refused: NOT saved, said above \"All done\"", t0)
            page.screenshot(path=str(out / "label-phone-refused.png"))
            # work comes back: the done page finds it by itself
            db = sqlite3.connect(str(folder / "walk.db"))
            db.execute("UPDATE tasks SET remaining = 1, is_open = 1 WHERE task_id = 'ed11'")
            db.commit()
            db.close()
            t0 = time.perf_counter()
            page.wait_for_selector("#task:not([hidden])", timeout=30_000)
            step("phone", "a task is freed: the done page shows it (polls every 2 s here, 30 s by default)", t0)
            page.close()
            desk.close()
            browser.close()
        for png in out.glob("label-*.png"):  # 64 colours: a fifth of the size, the same look for a UI
            from PIL import Image

            Image.open(png).convert("RGB").quantize(64, method=Image.Quantize.MEDIANCUT).save(png, optimize=True)
        assert httpx.get(f"{server.base}/api/labels", headers=auth(tok["sam"])).json()["labels"]
    finally:
        server.stop()
    print("| device | step | ms |\n|---|---|---|")
    for who, what, ms in rows:
        print(f"| {who} | {what} | {ms:.0f} |")
    for png in sorted(out.glob("label-*.png")):
        print(png, png.stat().st_size // 1024, "KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
