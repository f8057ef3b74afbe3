"""``empathic metrics score`` prints the same static reward as the library, and config sections are checked."""

import argparse
import io
import json
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from empathic_rlhf.errors import EmpathicError  # noqa: E402
from empathic_rlhf.metrics import commands  # noqa: E402
from empathic_rlhf.metrics.config import StaticRewardConfig  # noqa: E402
from empathic_rlhf.metrics.static_reward import static_reward  # noqa: E402


def _parser():
    parser = argparse.ArgumentParser(prog="empathic")
    commands.add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def test_metrics_score_from_stdin(monkeypatch, capsys):
    history = ["Hey!", "Hi, how are you?", "Fine, and you?"]
    lines = [json.dumps({"history": history, "reply": r}) for r in ("What?", "I just finished a bad movie.")]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    args, overrides = _parser().parse_known_args(["metrics", "score", "--static_reward.similarity_weight=0"])
    assert args.func(args, overrides) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = static_reward([history] * 2, ["What?", "I just finished a bad movie."],
                             StaticRewardConfig(similarity_weight=0))
    assert [o["static_reward"] for o in out] == pytest.approx(expected, abs=1e-4)
    assert out[0]["metrics"]["question"] == 1.0


def test_load_section_layers_and_rejects_other_sections(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("static_reward:\n  question_weight: 0.5\n  toxicity_weight: 0.2\n")
    loaded = commands.load_section(StaticRewardConfig, "static_reward", str(config),
                                   ["--static_reward.toxicity_weight=0.3"])
    assert (loaded.question_weight, loaded.toxicity_weight, loaded.sentiment_weight) == (0.5, 0.3, 0.15)
    with pytest.raises(EmpathicError, match="dyme"):
        commands.load_section(StaticRewardConfig, "static_reward", None, ["--dyme.max_epochs=3"])
    with pytest.raises(EmpathicError, match="question_wieght"):
        commands.load_section(StaticRewardConfig, "static_reward", None, ["--static_reward.question_wieght=1"])


def test_bad_input_line_names_file_and_line(tmp_path):
    from empathic_rlhf.metrics.static_reward import read_pairs

    path = tmp_path / "pairs.jsonl"
    path.write_text('{"history": ["a"], "reply": "b"}\n{"history": "a", "reply": "b"}\n')
    with pytest.raises(EmpathicError, match=r"pairs.jsonl:2: field 'history'"):
        read_pairs(str(path))
