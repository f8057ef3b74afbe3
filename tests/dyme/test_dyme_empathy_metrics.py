"""DYME with the optional empathy metrics: four extra columns, computed by the empathy scorer, used end to end."""

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from empathic_rlhf.dyme.config import DymeConfig  # noqa: E402
from empathic_rlhf.dyme.empathy_metrics import EMPATHY_METRIC_NAMES, extend_conversations  # noqa: E402
from empathic_rlhf.dyme.model import save_model  # noqa: E402
from empathic_rlhf.dyme.score import DymeScorer  # noqa: E402
from empathic_rlhf.metrics.vector import METRIC_NAMES  # noqa: E402


@pytest.fixture(scope="module")
def empathy_model(tmp_path_factory):
    from empathy.planted_empathy import build_planted_scorer

    return build_planted_scorer(tmp_path_factory.mktemp("empathy"))


def test_default_config_keeps_the_nine_metrics():
    assert DymeConfig().empathy_metrics is False


def test_extend_appends_the_scorer_columns_per_utterance(empathy_model):
    from empathic_rlhf.empathy import load_empathy_scorer

    conversations = [["I heard a noise in the dark.", "i am so sorry for you", "It was a cat."],
                     ["We won!", "the bus is blue"]]
    base = [np.zeros((3, 2)), np.ones((2, 2))]
    extended = extend_conversations(conversations, base, str(empathy_model))
    assert [e.shape for e in extended] == [(3, 6), (2, 6)]
    assert np.array_equal(extended[1][:, :2], np.ones((2, 2)))  # the base columns are kept as they were
    expected = load_empathy_scorer(empathy_model)([["I heard a noise in the dark."]], ["i am so sorry for you"])
    row = extended[0][1, 2:]
    assert row == pytest.approx([expected[name][0] for name in EMPATHY_METRIC_NAMES])


def test_scorer_of_a_model_with_empathy_metrics(empathy_model, tmp_path):
    """A DYME saved with 13 metrics computes all 13 for history and reply; the reward is their distance."""
    import torch

    from empathic_rlhf.dyme.features import MinMaxScaler, feature_dim
    from empathic_rlhf.dyme.model import make_mlp

    names = (*METRIC_NAMES, *EMPATHY_METRIC_NAMES)
    k = len(names)
    cfg = DymeConfig(max_history=3, hidden_size=8, empathy_metrics=True, empathy_model=str(empathy_model))
    torch.manual_seed(0)
    model = make_mlp(feature_dim(k, 3), k, 8, 0.0)
    scaler = MinMaxScaler(lo=np.zeros(k), hi=np.concatenate([np.full(len(METRIC_NAMES), 10.0), [2, 2, 2, 1]]))
    save_model(tmp_path / "m", model, scaler, names, cfg, input_dim=feature_dim(k, 3))
    scorer = DymeScorer(tmp_path / "m")
    history = ["I heard a noise in the dark and got scared."]
    replies = ["i am so sorry for you. what happened then?", "the bus is blue"]
    raw, actual = scorer.actual([history, history], replies)
    assert raw.shape == (2, k)
    er = names.index("er")
    assert raw[0, er] > raw[1, er] + 0.5  # the planted Emotional Reaction is measured in the reply
    predicted = scorer.predict([history, history])
    rewards = scorer.reward([history, history], replies)
    assert rewards == pytest.approx((-((predicted - actual) ** 2).mean(axis=1)).tolist())
    assert set(scorer.score([history], replies[:1])[0]["actual"]) == set(names)
