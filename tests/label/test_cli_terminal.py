"""The ``empathic label`` commands end to end (import twice, invite, terminal labelling, export, report)."""

from __future__ import annotations

import json

import pytest
from label_helpers import make_tasks, write_tasks

from empathic_rlhf import cli


@pytest.fixture
def empathic(monkeypatch, tmp_path):
    """``empathic(*args)`` runs the real ``empathic label ...`` CLI inside ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    return lambda *args: cli.main(["label", *args])


def test_import_invite_terminal_export_report(empathic, tmp_path, capsys, monkeypatch):
    (tmp_path / "runs" / "demo" / "sample").mkdir(parents=True)
    write_tasks(tmp_path / "runs" / "demo" / "sample" / "tasks.jsonl", make_tasks(3, k=2))
    assert empathic("import", "--label.calibration_fraction=0") == 0
    assert empathic("import") == 0
    out = capsys.readouterr().out
    assert "3 added" in out and "0 added, 3 already there" in out
    assert (tmp_path / "runs" / "demo" / "label" / "label.db").exists()

    assert empathic("invite", "alice", "--port", "9000") == 0
    assert capsys.readouterr().out.startswith("http://127.0.0.1:9000/join/")
    assert empathic("invite", "alice") == 2
    assert "exists already" in capsys.readouterr().err

    # terminal: t0 pick reply 2 and rate it 4/5/<none>; t1 tie, undo the tie, skip instead; t2 pick reply 1
    answers = iter(["2", "4", "5", "", "t", "u", "s", "1", "", "", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    assert empathic("terminal", "--annotator", "bob") == 0
    out = capsys.readouterr().out
    assert "undone: t1" in out and "nothing left to label: 3 labels done" in out

    assert empathic("export") == 0
    labels = [json.loads(x) for x in (tmp_path / "runs/demo/label/labels.jsonl").read_text().splitlines()]
    assert [(r["task_id"], r["annotator"], r["outcome"]) for r in labels] == [
        ("t0", "bob", "best"), ("t1", "bob", "skip"), ("t2", "bob", "best")]
    first = labels[0]
    shown_second = first["shown_order"][1]
    assert first["best"] == shown_second and first["ratings"] == {shown_second: {"empathy": 4, "relevance": 5}}
    assert empathic("report") == 0
    assert "bob" in capsys.readouterr().out


def test_bad_config_key_is_a_one_line_error(empathic, capsys):
    assert empathic("report", "--label.overlapp=2") == 2
    assert "unknown config key 'overlapp'" in capsys.readouterr().err
