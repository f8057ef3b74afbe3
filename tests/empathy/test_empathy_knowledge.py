"""The predicted-emotion knowledge option of ``prepare``: the emotion the classifier reads from each history."""

import pytest

from empathic_rlhf.data.records import Conversation, Turn
from empathic_rlhf.data.samples import samples_from_conversation
from empathic_rlhf.empathy.scorer import shared_scorer


@pytest.fixture
def planted_env(planted_empathy_model, monkeypatch):
    monkeypatch.setenv("EMPATHIC_EMPATHY_MODEL", str(planted_empathy_model))
    shared_scorer.cache_clear()
    yield
    shared_scorer.cache_clear()


def test_predicted_emotion_is_read_from_each_samples_history(planted_env):
    turns = (Turn(1, "speaker", "We won and had a happy party!"), Turn(2, "listener", "How fun for you."),
             Turn(3, "speaker", "Then I heard a scared noise in the dark, a spider, I was so scared."),
             Turn(4, "listener", "That sounds scary."))
    # The gold label says "sad": the option must not leak it, it predicts from the text the model sees.
    conv = Conversation("c1", "test", "sad", "a situation", turns)
    samples = list(samples_from_conversation(conv, max_history_turns=1, knowledge=("predicted_emotion",)))
    assert [s["prompt"][0] for s in samples] == [
        {"role": "system", "content": "Emotion: joyful."},
        {"role": "system", "content": "Emotion: afraid."},
    ]
