"""Helpers shared by the labelling tests (a module name no other test folder uses)."""

from __future__ import annotations

import json


def make_tasks(n: int, *, k: int = 3, prefix: str = "t", kind: str = "policy-samples", gold: dict | None = None):
    """``n`` records.Task objects (as JSON) with ``k`` candidates each; ``gold`` maps task index -> the index of the
    known best candidate (the task's ``answer``)."""
    tasks = []
    for i in range(n):
        record = {
            "task_id": f"{prefix}{i}", "kind": kind, "conv_id": f"hit:{i}_conv:{i}", "emotion": "sad",
            "situation": f"My dog {i} died last week.",
            "prompt": [{"role": "system", "content": "Emotion: sad."}, {"role": "user", "content": f"My dog {i} died."}],
            "history": [{"role": "speaker", "text": f"My dog {i} died."}],
            "candidates": [{"cand_id": f"c{j}", "text": f"reply {j} to {i}", "source": "policy"} for j in range(k)],
            "sampling": {"temperature": 1.0},
        }
        if gold and i in gold:
            record["answer"] = f"c{gold[i]}"
        tasks.append(record)
    return tasks


def request(**fields):
    """A LabelRequest from keyword fields (what the page would post)."""
    from empathic_rlhf.label.requests import LabelRequest

    return LabelRequest.model_validate(fields, strict=False)


def write_tasks(path, tasks) -> str:
    path.write_text("".join(json.dumps(t) + "\n" for t in tasks), encoding="utf-8")
    return str(path)


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def hammer(store, cfg, n_annotators: int = 8) -> dict:
    """Annotators in parallel threads claim and label until nothing is left; returns what was stored."""
    import threading

    from sqlalchemy import func, select

    from empathic_rlhf.label import assign
    from empathic_rlhf.label.auth import invite
    from empathic_rlhf.label.models import Annotator, Assignment, Label, Task

    for i in range(n_annotators):
        invite(store, f"h{i}")
    with store.tx() as s:
        ids = list(s.scalars(select(Annotator.id).where(Annotator.name.like("h%"))))
    errors = []

    def work(aid):
        try:
            while True:
                with store.tx() as s:
                    found = assign.next_assignment(s, aid, cfg)
                    if found is None:
                        return
                    a, task = found
                    assign.submit(s, aid, request(assignment_id=a.id, task_id=task.task_id, outcome="tie"), cfg)
        except Exception as e:  # noqa: BLE001 - reported by the test
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(aid,)) for aid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.tx() as s:
        per_task = dict(s.execute(select(Task.task_id, func.count(Label.id)).outerjoin(Label, Label.task_id == Task.id)
                                  .group_by(Task.task_id)).all())
        quota = dict(s.execute(select(Task.task_id, Task.quota)).all())
        pairs = s.execute(select(Assignment.task_id, Assignment.annotator_id)).all()
        remaining = list(s.scalars(select(Task.remaining)))
    return {"errors": errors, "per_task": per_task, "quota": quota, "dup_pairs": len(pairs) - len(set(pairs)),
            "remaining": remaining}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """``python -m empathic_rlhf.label serve`` in its own process on loopback, as a user would start it."""

    def __init__(self, db_url: str, *overrides: str):
        self.db_url, self.overrides, self.port, self.proc = db_url, overrides, free_port(), None
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        import subprocess
        import sys

        import httpx

        self.proc = subprocess.Popen([sys.executable, "-m", "empathic_rlhf.label", "serve", "--db", self.db_url,
                                      "--port", str(self.port), *self.overrides],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(600):  # wait for the port to answer (or the process to die), at most ~60 s
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                httpx.get(f"{self.base}/guidelines", timeout=1.0)
                return self
            except httpx.TransportError:
                import time
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def sqlite_at_revision(path, revision: str, *statements: str) -> str:
    """A SQLite database at an old schema ``revision`` (as a user upgrading would have it), with ``statements``
    run on it; returns its URL."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from empathic_rlhf.label.db import MIGRATIONS

    url = f"sqlite:///{path}"
    engine = create_engine(url)
    alembic_cfg = Config()
    alembic_cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        alembic_cfg.attributes["connection"] = conn
        command.upgrade(alembic_cfg, revision)
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()
    return url


DIALOGUES = [
    ("afraid", "I was walking home alone last night and I was sure someone was following me the whole way.",
     ["I walked home from the station late last night and heard footsteps behind me for three streets.",
      "Oh no, that sounds really scary. Did you see who it was?",
      "No, I was too scared to turn around. I just walked faster until I got to my door."],
     ["That must have been terrifying. I'm glad you made it home safe. Are you feeling a bit better today?",
      "I like walking at night, the streets are so quiet.",
      "Maybe it was just someone going the same way, but I understand why your heart was racing.",
      "You should take a taxi next time."]),
    ("proud", "My daughter just finished her first marathon and I cried at the finish line.",
     ["My daughter ran her first marathon on Sunday!",
      "Wow, congratulations to her! How did she do?",
      "She finished in under four hours. I was at the finish line and cried like a baby."],
     ["That is wonderful! You must be so proud of her, those are the best kind of tears.",
      "Four hours is a long time to run.",
      "What a moment to share with her. How is she feeling after it?",
      "I ran a marathon once too, it was in Berlin."]),
]


def ed_tasks(n: int = 6) -> list[dict]:
    """``n`` tasks that look like the real ones: 4 replies of one to two lines, a 3-turn history, a situation."""
    tasks = []
    for i in range(n):
        emotion, situation, history, replies = DIALOGUES[i % len(DIALOGUES)]
        roles = ["speaker", "listener", "speaker"]
        tasks.append({
            "task_id": f"ed{i}", "kind": "policy-samples", "conv_id": f"hit:{i}_conv:{i}", "emotion": emotion,
            "situation": situation,
            "prompt": [{"role": "system", "content": f"Emotion: {emotion}."}]
            + [{"role": "user" if r == "speaker" else "assistant", "content": t} for r, t in zip(roles, history)],
            "history": [{"role": r, "text": t} for r, t in zip(roles, history)],
            "candidates": [{"cand_id": f"c{j}", "text": t, "source": "policy"} for j, t in enumerate(replies)],
            "sampling": {"temperature": 1.0},
        })
    return tasks
