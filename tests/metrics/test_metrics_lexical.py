"""Lexical metrics on a hand-made dialogue, each value checked by hand in the comments."""

import numpy as np
import pytest

from empathic_rlhf.metrics import lexical
from empathic_rlhf.metrics.text import content_tokens, word_count

HISTORY = ["My dog ran away today.", "Oh no! Did you find your dog?", "Yes, my neighbor found him."]
REPLY = "Where did your neighbor find the dog? The dog must be happy!"
# content words (stopwords dropped):  h0 {dog, ran, away, today}  h1 {oh, find, dog}  h2 {yes, neighbor, found}
# reply: [where, neighbor, find, dog, dog, must, happy] -> 7 tokens, 6 distinct


def test_content_tokens_drop_stopwords_and_contraction_pieces():
    assert content_tokens(REPLY) == ["where", "neighbor", "find", "dog", "dog", "must", "happy"]
    # "don't" splits into don + t, "I'm" into i + m: all stopwords, as DYME's contraction filter
    assert content_tokens("I don't know, I'm tired") == ["know", "tired"]
    assert word_count("I don't know, I'm tired!") == 5


def test_repetition_family_by_hand():
    assert lexical.conversation_repetition(HISTORY, REPLY) == 3  # neighbor, find, dog
    assert lexical.self_repetition(HISTORY, REPLY) == 2  # same speaker said h1: find, dog
    assert lexical.utterance_repetition(HISTORY, REPLY) == 1  # previous utterance h2: neighbor
    assert lexical.word_repetition(HISTORY, REPLY) == 1  # "dog" twice


def test_repetition_without_history_is_zero():
    assert lexical.conversation_repetition([], "dog dog") == 0
    assert lexical.utterance_repetition([], "dog dog") == 0
    assert lexical.self_repetition(["dog"], "dog") == 0  # the only earlier turn is the other speaker's
    assert lexical.word_repetition([], "dog dog") == 1


def test_question_needs_word_and_mark():
    assert lexical.question(HISTORY, REPLY) == 1.0
    assert lexical.question([], "Really?") == 0.0  # a '?' without a question word
    assert lexical.question([], "I know what you mean.") == 0.0  # a question word without a '?'
    assert lexical.question([], "How was it?") == 1.0


def test_sentiment_vader_by_hand():
    # VADER: "happy" has valence 2.7, one '!' adds 0.292 -> 2.992; compound = 2.992 / sqrt(2.992^2 + 15)
    assert lexical.sentiment(HISTORY, REPLY) == pytest.approx(2.992 / np.sqrt(2.992**2 + 15), abs=1e-4)
    assert lexical.sentiment([], "It was a terrible day.") < 0


def test_length_in_words():
    assert lexical.length(HISTORY, REPLY) == 12


def test_batched_equals_single_functions():
    histories = [HISTORY, HISTORY[:1], [], HISTORY[:2]]
    replies = [REPLY, "Oh no, your dog?", "Hello there!", "No, we did not find the dog, sadly."]
    batch = lexical.lexical_metrics(histories, replies)
    singles = [lexical.sentiment, lexical.question, lexical.conversation_repetition, lexical.self_repetition,
               lexical.utterance_repetition, lexical.word_repetition, lexical.length]
    for i, (h, r) in enumerate(zip(histories, replies)):
        assert batch[i, :7].tolist() == pytest.approx([f(h, r) for f in singles])
        assert batch[i, 7] == len(content_tokens(r))
