"""``empathic label terminal``: the seed's annotation script, on the same tasks, rules and database as the web app
(it calls the same ``assign`` functions), for someone on a server with no browser."""

from __future__ import annotations

import textwrap
import time

from pydantic import ValidationError

from ..errors import EmpathicError
from . import assign
from .config import LabelConfig
from .requests import LabelRejected, LabelRequest
from .tasks import shown
from .text import for_terminal

HELP = "1-{k} best (add e to edit it, e.g. 2e) · t tie · b all bad · s skip · u undo · q quit"


def _annotator_id(store, name: str) -> int:
    from sqlalchemy import select

    from .auth import invite
    from .models import Annotator

    with store.tx() as s:
        found = s.execute(select(Annotator.id, Annotator.kind).where(Annotator.name == name)).first()
    if found is None:
        invite(store, name)  # the token is not needed on the terminal; the link can be rotated later
        return _annotator_id(store, name)
    if found.kind != "human":  # a person's labels under a simulated annotator would be exported as synthetic
        raise EmpathicError(f"annotator {name!r} is simulated ({found.kind}): choose another name")
    return found.id


def _print_task(view: dict, progress: dict, config: LabelConfig, out) -> None:
    def wrap(text, indent):  # escape sequences in a task would clear the screen or retitle the window: stripped
        return textwrap.fill(for_terminal(text), 100, initial_indent=indent, subsequent_indent=" " * len(indent))
    out(f"\n--- {progress['done']} done, {progress['left']} left ---")
    if config.show_situation and view.get("situation"):
        out(wrap(f"({view.get('emotion') or ''}) {view['situation']}", "situation: "))
    for turn in view["history"]:
        out(wrap(turn["text"], f"{turn['role']:>9}: "))
    out("")
    for i, c in enumerate(view["candidates"], 1):
        out(wrap(c["text"], f"  [{i}] "))


def _ask_ratings(ask, out, cand_ids: list[str], config: LabelConfig, required: bool) -> dict:
    ratings = {}
    for cid_i, cid in cand_ids:
        for crit in config.criteria:
            while True:
                raw = ask(f"  reply {cid_i} {crit} 1-5 (1 poor, 5 excellent){'' if required else ' (Enter: none)'}: ")
                raw = raw.strip()
                if raw == "" and not required:
                    break
                if raw in {"1", "2", "3", "4", "5"}:
                    ratings.setdefault(cid, {})[crit] = int(raw)
                    break
                out("  please type 1-5")
    return ratings


def run_terminal(store, config: LabelConfig, name: str, ask=None, out=print) -> int:
    """Label until nothing is left, ``q``, or Ctrl-D / Ctrl-C at any prompt (one line, no traceback: the task on
    screen is not saved and its reservation expires as in the web app)."""
    ask = ask or input  # looked up per call, not bound at import (tests replace builtins.input)
    me = _annotator_id(store, name)
    try:
        return _loop(store, config, name, me, ask, out)
    except (EOFError, KeyboardInterrupt):
        with store.tx() as s:
            done = assign.progress(s, me)["done"]
        out(f"\nstopped: the label of the task on screen was not saved; {done} labels done.")
        return 0


def _loop(store, config: LabelConfig, name: str, me: int, ask, out) -> int:
    with store.tx() as s:
        assign.expire_stale(s, config.reservation_minutes)
    out(f"labelling as {name}; " + HELP.format(k=4))
    while True:
        with store.tx() as s:
            found = assign.next_assignment(s, me, config)
            progress = assign.progress(s, me)
            if found is None:
                out(f"nothing left to label: {progress['done']} labels done. Thank you!")
                return 0
            a, task = found
            view, assignment_id, kind = shown(task, a.shown_order), a.id, task.kind
            task_name = task.task_id
        _print_task(view, progress, config, out)
        started = time.monotonic()
        k = len(view["candidates"])
        raw = ask(f"best reply 1-{k}, t/b/s/u/q? ").strip().lower()
        if raw == "q":
            return 0
        if raw == "u":
            with store.tx() as s:
                out(f"undone: {assign.undo(s, me) or 'nothing to undo'}")
            continue
        payload = {"assignment_id": assignment_id, "task_id": task_name}
        if raw in ("t", "b", "s"):
            payload["outcome"] = {"t": "tie", "b": "all_bad", "s": "skip"}[raw]
        elif raw.rstrip("e").isdigit() and 1 <= int(raw.rstrip("e")) <= k:
            index = int(raw.rstrip("e")) - 1
            best = view["candidates"][index]["cand_id"]
            payload.update(outcome="best", best=best)
            if raw.endswith("e"):
                text = ask("  your better reply: ").strip()
                payload["edit"] = {"cand_id": best, "text": text} if text else None
        else:
            out(HELP.format(k=k))
            continue
        rate_all = config.rate_all or kind == "model-comparison"
        if config.criteria and payload["outcome"] in ("best", "tie") and (rate_all or payload["outcome"] == "best"):
            targets = list(enumerate(a.shown_order, 1)) if rate_all else [(index + 1, payload["best"])]
            required = config.ratings_required or kind == "model-comparison"  # the comparison report needs them
            payload["ratings"] = _ask_ratings(ask, out, targets, config, required)
        payload["seconds"] = time.monotonic() - started
        try:
            with store.tx() as s:
                assign.submit(s, me, LabelRequest.model_validate(payload, strict=False), config)
        except (LabelRejected, assign.NotYours, assign.OtherTask) as e:
            out(f"not saved: {e}")
        except ValidationError as e:  # e.g. an edit longer than a reply may be
            out(f"not saved: {e.errors()[0]['msg']}")
