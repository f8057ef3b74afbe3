"""A tiny build on planted data learns the planted signal, and the scorer API keeps its contract."""

import json

import numpy as np
import pytest

from empathic_rlhf.empathy import load_empathy_scorer
from empathic_rlhf.empathy.build import build_models
from empathic_rlhf.empathy.config import EmpathyBuildConfig
from empathic_rlhf.errors import EmpathicError


def test_tiny_build_learns_the_planted_mechanisms(planted_empathy_model):
    report = json.loads((planted_empathy_model / "report.json").read_text())
    for mechanism in ("er", "ip", "ex"):
        row = report["mechanisms"]["test"][mechanism]
        assert row["n"] > 40
        assert row["macro_f1"] > 0.9, (mechanism, row)
    assert report["emotion"]["test"]["context_top1"] > 0.9


def test_scorer_contract_and_planted_direction(planted_empathy_model):
    scorer = load_empathy_scorer(planted_empathy_model)
    histories = [["I was scared of the spider in the dark."]] * 4
    replies = ["i am so sorry for you", "i understand how that feels", "what happened then?", "the bus is blue"]
    scores = scorer(histories, replies)
    assert list(scores) == ["er", "ip", "ex", "empathy", "emotion_fit"]
    for name, values in scores.items():
        assert values.dtype == np.float64 and values.shape == (4,), name
    for name in ("er", "ip", "ex", "empathy"):
        assert np.all((scores[name] >= 0) & (scores[name] <= 2)), name
    assert np.all((scores["emotion_fit"] >= 0) & (scores["emotion_fit"] <= 1))
    # Each planted phrase raises its own mechanism far above the filler reply, and the mean follows.
    assert scores["er"][0] > scores["er"][3] + 1.0
    assert scores["ip"][1] > scores["ip"][3] + 1.0
    assert scores["ex"][2] > scores["ex"][3] + 1.0
    assert scores["empathy"] == pytest.approx((scores["er"] + scores["ip"] + scores["ex"]) / 3)


def test_emotion_prediction_and_fit(planted_empathy_model):
    scorer = load_empathy_scorer(planted_empathy_model)
    fear = ["I heard a noise in the dark and got scared."]
    party = ["We won and had a happy party!"]
    predicted = scorer.predict_emotion([fear, party])
    assert [label for label, _ in predicted] == ["afraid", "joyful"]
    assert all(0.34 < p <= 1.0 for _, p in predicted)  # above the 1/3 of a guess among three emotions
    fit = scorer([fear, fear], ["Oh, that sounds scary.", "Congrats that is wonderful!"])["emotion_fit"]
    assert fit[0] > fit[1] + 0.3


def test_empty_input_and_length_mismatch(planted_empathy_model):
    scorer = load_empathy_scorer(planted_empathy_model)
    empty = scorer([], [])
    assert all(v.shape == (0,) for v in empty.values())
    assert scorer.predict_emotion([]) == []
    with pytest.raises(EmpathicError, match="2 histories but 1 replies"):
        scorer([["a"], ["b"]], ["c"])


def test_env_variable_selects_the_model(planted_empathy_model, monkeypatch):
    monkeypatch.setenv("EMPATHIC_EMPATHY_MODEL", str(planted_empathy_model))
    assert load_empathy_scorer().folder == planted_empathy_model


def test_not_a_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(EmpathicError, match="not an empathy model folder"):
        load_empathy_scorer(tmp_path)


def test_default_build_without_data_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setenv("EMPATHIC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("EMPATHIC_EMPATHY_MODEL", raising=False)
    monkeypatch.setenv("EMPATHIC_EPITOME_DIR", str(tmp_path / "no-epitome"))
    with pytest.raises(EmpathicError, match="EPITOME data not found"):
        load_empathy_scorer()
    from empathy.planted_empathy import write_planted_epitome

    epitome = write_planted_epitome(tmp_path / "epitome", posts=2)
    config = EmpathyBuildConfig(epitome_dir=str(epitome), data_dir=str(tmp_path / "no-ed"))
    with pytest.raises(EmpathicError, match="EmpatheticDialogues not found"):
        build_models(config, tmp_path / "m")
    assert not (tmp_path / "m").exists()  # nothing half-written
