"""Import refuses what would break later (one line naming file:line:field, exit 2), on SQLite and PostgreSQL; text
that would deceive a reader (bidi overrides) or act on a terminal (escape sequences) is neutralised."""

from __future__ import annotations

import json

import pytest
from label_helpers import auth, make_tasks, write_tasks

from empathic_rlhf import cli
from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.label.auth import invite
from empathic_rlhf.label.tasks import import_tasks


def bad_files(tmp_path) -> dict:
    """name -> (path, expected message): one broken line 2 in each."""
    def write(name, second):
        tasks = make_tasks(2)
        second(tasks[1])
        return write_tasks(tmp_path / f"{name}.jsonl", tasks)
    three = make_tasks(2, k=3, kind="model-comparison")
    files = {
        "long_id": (write("long_id", lambda t: t.update(task_id="x" * 201)), "field 'task_id'"),
        "nul_id": (write("nul_id", lambda t: t.update(task_id="a\x00b")), "field 'task_id'"),
        "nul_text": (write("nul_text", lambda t: t["candidates"][0].update(text="a\x00b")), "NUL"),
        "situation_object": (write("situation_object", lambda t: t.update(situation={"x": 1})), "field 'situation'"),
        "emotion_number": (write("emotion_number", lambda t: t.update(emotion=3)), "field 'emotion'"),
        "duplicate_id": (write("duplicate_id", lambda t: t.update(task_id="t0")), "'t0' repeats line 1"),
        "comparison_of_3": (write_tasks(tmp_path / "cmp3.jsonl", three), "exactly 2 candidates"),
    }
    latin = tmp_path / "latin1.jsonl"
    latin.write_bytes((json.dumps(make_tasks(1)[0]) + "\n").encode() + json.dumps(
        make_tasks(1, prefix="u")[0], ensure_ascii=False).replace("My dog", "Mon chien àé").encode("latin-1") + b"\n")
    files["latin1"] = (str(latin), "not UTF-8")
    return files


def check_all_rejected(store, cfg, tmp_path):
    from sqlalchemy import func, select

    from empathic_rlhf.label.models import Task
    for name, (path, needle) in bad_files(tmp_path).items():
        with pytest.raises(EmpathicError) as e:
            import_tasks(store, path, cfg)
        line = 1 if name == "comparison_of_3" else 2
        assert str(e.value).startswith(f"{path}:{line}: ") and needle in str(e.value), (name, str(e.value))
        assert "\n" not in str(e.value)
    with store.tx() as s:
        assert s.scalar(select(func.count()).select_from(Task)) == 0  # nothing half-imported


def test_bad_imports_are_one_line_errors_sqlite(store, cfg, tmp_path):
    check_all_rejected(store, cfg, tmp_path)


def test_bad_imports_are_one_line_errors_postgres(postgres_url, cfg, tmp_path):
    from sqlalchemy import create_engine

    from empathic_rlhf.label.db import Store
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS label_imports")
        conn.exec_driver_sql("CREATE DATABASE label_imports")
    admin.dispose()
    store = Store(postgres_url.rsplit("/", 1)[0] + "/label_imports")
    try:
        check_all_rejected(store, cfg, tmp_path)
    finally:
        store.close()


def test_duplicate_ids_exit_2_from_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = write_tasks(tmp_path / "dup.jsonl", make_tasks(2) + make_tasks(1))
    assert cli.main(["label", "import", path]) == 2
    assert "dup.jsonl:3: Task field 'task_id': 't0' repeats line 1" in capsys.readouterr().err


BIDI = "\u202eSIHT DAER\u202c"  # shows as "READ THIS" in a browser that honours the override


def test_bidi_overrides_are_removed_from_what_annotators_see(app_client, store, cfg, tmp_path):
    tasks = make_tasks(1, k=2)
    tasks[0]["candidates"][0]["text"] = BIDI
    tasks[0]["history"][0]["text"] = "\u2067hi\u2069 there"
    tasks[0]["situation"] = "\u202dok"
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", tasks), cfg)
    view = app_client.get("/api/next", headers=auth(invite(store, "ann"))).json()["task"]
    assert sorted(c["text"] for c in view["candidates"]) == sorted(["SIHT DAER", "reply 1 to 0"])
    assert view["history"][0]["text"] == "hi there" and view["situation"] == "ok"


def test_terminal_prints_no_control_sequences(store, cfg, tmp_path):
    from empathic_rlhf.label.terminal import run_terminal
    tasks = make_tasks(1, k=2)
    tasks[0]["candidates"][0]["text"] = "clear\x1b[2J\x1b[Hme \x1b]0;pwned\x07title \x9b1m" + BIDI
    tasks[0]["history"][0]["text"] = "bell\x07 and\tok"
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", tasks), cfg)
    printed = []
    answers = iter(["q"])
    run_terminal(store, cfg, "bob", ask=lambda prompt="": next(answers), out=printed.append)
    text = "\n".join(printed)
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text and "\u202e" not in text
    assert "clearme title 1mSIHT DAER" in text  # the sequences are gone, the words stay
    assert "bell and" in text
