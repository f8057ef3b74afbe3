"""The static reward equals its hand computation, z-normalises, and shows the seed's "very bad movie" weakness."""

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from empathic_rlhf.metrics.config import StaticRewardConfig  # noqa: E402
from empathic_rlhf.metrics.static_reward import TERM_NAMES, StaticReward, reward_terms, static_reward  # noqa: E402
from empathic_rlhf.metrics.toxicity import toxicity  # noqa: E402
from empathic_rlhf.metrics.vector import similarity  # noqa: E402

HISTORY = ["My dog ran away today.", "Oh no! Did you find your dog?", "Yes, my neighbor found him."]
REPLY = "Where did your neighbor find the dog? The dog must be happy!"


def test_static_reward_equals_hand_computation():
    # sentiment 0.6114 (VADER, see test_metrics_lexical), question 1,
    # repetition -(3 words repeated from the conversation + 1 duplicate) / 7 content words = -4/7,
    # similarity and toxicity from their own metric functions (oriented: toxicity enters as -p).
    sent = 2.992 / np.sqrt(2.992**2 + 15)
    sim, tox = similarity(HISTORY, REPLY), toxicity(HISTORY, REPLY)
    expected = 0.15 * sent + 0.25 * 1 + 0.5 * (-4 / 7) + 0.05 * sim + 0.05 * (-tox)
    assert static_reward([HISTORY], [REPLY])[0] == pytest.approx(expected, abs=1e-4)


def test_weights_are_configurable():
    only_question = StaticRewardConfig(sentiment_weight=0, question_weight=2.0, repetition_weight=0,
                                       similarity_weight=0, toxicity_weight=0)
    assert static_reward([HISTORY, HISTORY], [REPLY, "Nice."], only_question) == pytest.approx([2.0, 0.0])


def test_terms_are_oriented_higher_is_better():
    terms = reward_terms([["I love dogs."]] * 2, ["dogs dogs dogs", "You stupid idiot, what is up?"])
    rep, tox = TERM_NAMES.index("repetition"), TERM_NAMES.index("toxicity")
    assert terms[0, rep] == pytest.approx(-1.0)  # every content word repeats: the worst repetition term
    assert terms[1, rep] == 0.0
    assert terms[1, tox] < -0.9 < terms[0, tox]


def test_z_normalisation_on_reference_set(tmp_path):
    rng = np.random.default_rng(0)
    words = ["dog", "movie", "happy", "sad", "what", "why", "day", "terrible", "great", "idiot"]
    replies = [" ".join(rng.choice(words, size=rng.integers(2, 8))) + rng.choice(["?", ".", "!"]) for _ in range(60)]
    histories = [["I watched a movie today."], ["My dog is sad."]] * 30
    reference = tmp_path / "ref.jsonl"
    reference.write_text("".join(f'{{"history": {h!r}, "reply": "{r}"}}\n'.replace("'", '"')
                                 for h, r in zip(histories, replies)))
    reward = StaticReward(StaticRewardConfig(z_normalize=True, reference_file=str(reference)))
    z = reward.terms(histories, replies)
    assert z.mean(axis=0) == pytest.approx(np.zeros(5), abs=1e-9)
    assert z.std(axis=0) == pytest.approx(np.ones(5), abs=1e-9)
    assert reward(histories, replies) == pytest.approx(z @ np.array([0.15, 0.25, 0.5, 0.05, 0.05]))


def test_very_bad_movie_documents_the_static_rewards_weakness():
    """The seed's example: a natural, fitting reply gets a LOW static reward.

    "I just finished watching a very bad movie..." answers "Fine, and you?" perfectly well, but it is negative
    (VADER -0.58) and asks nothing, so the static reward is below zero and below a curt "What?" (question bonus).
    This test pins the weakness down; DYME (docs/dyme.md) is the project's answer to it.
    """
    history = ["Hey!", "Hi, how are you?", "Fine, and you?"]
    movie, curt = static_reward([history, history], ["I just finished watching a very bad movie...", "What?"])
    assert movie < 0 < curt
    assert movie == pytest.approx(-0.08, abs=0.02)
