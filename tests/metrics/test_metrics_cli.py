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
    args, overrides = _parser().parse_known_args(["metrics", "score", "--static_reward.similarity_weight=0",
                                                  "--no-empathy"])
    assert args.func(args, overrides) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "empathy" not in out[0]
    expected = static_reward([history] * 2, ["What?", "I just finished a bad movie."],
                             StaticRewardConfig(similarity_weight=0))
    assert [o["static_reward"] for o in out] == pytest.approx(expected, abs=1e-4)
    assert out[0]["metrics"]["question"] == 1.0


def test_bad_input_line_names_file_and_line(tmp_path):
    from empathic_rlhf.metrics.static_reward import read_pairs

    path = tmp_path / "pairs.jsonl"
    path.write_text('{"history": ["a"], "reply": "b"}\n{"history": "a", "reply": "b"}\n')
    with pytest.raises(EmpathicError, match=r"pairs.jsonl:2: field 'history'"):
        read_pairs(str(path))


@pytest.fixture(scope="module")
def tiny_empathy_model(tmp_path_factory):
    from empathy.planted_empathy import build_planted_scorer

    return build_planted_scorer(tmp_path_factory.mktemp("empathy"))


def test_metrics_score_has_the_empathy_columns(tmp_path, monkeypatch, capsys, tiny_empathy_model):
    from empathic_rlhf.empathy import load_empathy_scorer

    history = ["I heard a noise in the dark and got scared."]
    replies = ["i am so sorry for you. what happened then?", "the bus is blue"]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps({"history": history, "reply": r}) + "\n" for r in replies))
    monkeypatch.setenv("EMPATHIC_EMPATHY_MODEL", str(tiny_empathy_model))
    args, overrides = _parser().parse_known_args(["metrics", "score", str(path),
                                                  "--static_reward.similarity_weight=0"])
    assert args.func(args, overrides) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = load_empathy_scorer(tiny_empathy_model)([history] * 2, replies)
    for i, record in enumerate(out):
        assert list(record["empathy"]) == ["er", "ip", "ex", "empathy", "emotion_fit"]
        for name, values in expected.items():
            assert record["empathy"][name] == pytest.approx(values[i], abs=1e-4)
    assert out[0]["empathy"]["er"] > out[1]["empathy"]["er"] + 0.5
    assert out[0]["empathy"]["ex"] > out[1]["empathy"]["ex"] + 0.5
