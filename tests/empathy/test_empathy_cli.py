"""``empathic empathy build`` / ``score`` on planted data: tables printed, rebuild only when the config changes."""

import json

from empathic_rlhf.cli import main
from empathy.planted_empathy import write_planted_ed, write_planted_epitome


def test_build_then_reuse_then_score(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EMPATHIC_EPITOME_DIR", str(write_planted_epitome(tmp_path / "epitome")))
    monkeypatch.setenv("EMPATHIC_DATA_DIR", str(write_planted_ed(tmp_path / "ed")))
    out = tmp_path / "model"
    assert main(["empathy", "build", "--out", str(out)]) == 0
    first = capsys.readouterr().out
    assert "saved" in first and "| ER | 66 |" in first and "| from the context | 60 |" in first
    assert main(["empathy", "build", "--out", str(out)]) == 0
    assert "built already with this config" in capsys.readouterr().out
    assert main(["empathy", "build", "--out", str(out), "--empathy.seed=1"]) == 0
    assert json.loads((out / "report.json").read_text())["config"]["seed"] == 1  # a new config rebuilt it
    capsys.readouterr()

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"history": ["I heard a noise in the dark."], "reply": "what happened then?"}) + "\n")
    assert main(["empathy", "score", str(pairs), "--model", str(out)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["emotion"] == "afraid"
    assert record["ex"] > 1.0 and set(record) >= {"er", "ip", "ex", "empathy", "emotion_fit", "emotion_p"}


def test_unknown_setting_is_an_error(capsys):
    assert main(["empathy", "build", "--empathy.seedd=1"]) == 2
    assert "seedd" in capsys.readouterr().err
