"""Lexical utterance metrics: each a small function of ``(history, reply)``, plus one batched form.

``history`` is the list of earlier utterances, oldest first, alternating speakers (two-party dialogue); ``reply``
is the utterance being measured, spoken by the side that spoke ``history[-2]``, ``history[-4]``, ...

The repetition family follows DYME's definitions (counts of distinct content words, stopwords excluded):

- ``conversation_repetition``: words of the reply that occur anywhere in the history;
- ``self_repetition``: words of the reply that occur in the same speaker's earlier turns;
- ``utterance_repetition``: words of the reply that occur in the previous utterance (``history[-1]``);
- ``word_repetition``: extra occurrences of words inside the reply (tokens minus distinct tokens).

All are raw (unoriented) measurements: the static reward decides which direction is good.
"""

from __future__ import annotations

import functools

import numpy as np

from .text import QUESTION_WORDS, content_tokens, tokens, word_count

# Columns of :func:`lexical_metrics`, in order. ``content_words`` is not a DYME metric: the static reward uses it to
# turn repetition counts into a rate.
LEXICAL_NAMES: tuple[str, ...] = (
    "sentiment", "question", "conversation_repetition", "self_repetition", "utterance_repetition",
    "word_repetition", "length", "content_words",
)


@functools.lru_cache(maxsize=1)
def _vader():
    # Built once: the analyzer reads its 7,500-word lexicon from the package on construction (~50 ms).
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


# RL batches score k replies against the same history, and DYME's data scores each utterance once per later
# position: caching the word sets per text makes both cheap.
@functools.lru_cache(maxsize=262_144)
def _content_set(text: str) -> frozenset[str]:
    return frozenset(content_tokens(text))


@functools.lru_cache(maxsize=262_144)
def _union_of(texts: tuple[str, ...]) -> frozenset[str]:
    out: set[str] = set()
    for text in texts:
        out |= _content_set(text)
    return frozenset(out)


def sentiment(history: list[str], reply: str) -> float:
    """VADER compound polarity of the reply, in [-1, 1] (negative < 0 < positive). The history is not used."""
    return float(_vader().polarity_scores(reply)["compound"])


def question(history: list[str], reply: str) -> float:
    """1.0 if the reply has a question word (who/what/why/where/how/when) AND a '?', else 0.0 (DYME, the seed)."""
    return 1.0 if "?" in reply and not QUESTION_WORDS.isdisjoint(tokens(reply)) else 0.0


def conversation_repetition(history: list[str], reply: str) -> float:
    """Number of distinct content words of the reply that appear in any earlier utterance."""
    return float(len(_content_set(reply) & _union_of(tuple(history))))


def self_repetition(history: list[str], reply: str) -> float:
    """Number of distinct content words of the reply that appear in the same speaker's earlier turns."""
    return float(len(_content_set(reply) & _union_of(tuple(history[-2::-2]))))


def utterance_repetition(history: list[str], reply: str) -> float:
    """Number of distinct content words of the reply that appear in the previous utterance (0 without history)."""
    return float(len(_content_set(reply) & _content_set(history[-1]))) if history else 0.0


def word_repetition(history: list[str], reply: str) -> float:
    """Number of repeated occurrences of content words within the reply ("very very bad movie movie" -> 1)."""
    words = content_tokens(reply)
    return float(len(words) - len(set(words)))


def length(history: list[str], reply: str) -> float:
    """Length of the reply in words, punctuation excluded."""
    return float(word_count(reply))


def lexical_metrics(histories: list[list[str]], replies: list[str]) -> np.ndarray:
    """All lexical metrics for a batch: float array ``[n, len(LEXICAL_NAMES)]``, columns as ``LEXICAL_NAMES``.

    Equal to calling the single functions one by one (tested), but shares tokenisation between the metrics.
    """
    if len(histories) != len(replies):
        raise ValueError(f"{len(histories)} histories but {len(replies)} replies")
    vader = _vader()
    out = np.zeros((len(replies), len(LEXICAL_NAMES)), dtype=np.float64)
    for i, (history, reply) in enumerate(zip(histories, replies)):
        words = content_tokens(reply)
        reply_set = _content_set(reply)
        history = tuple(history)
        out[i, 0] = vader.polarity_scores(reply)["compound"]
        out[i, 1] = 1.0 if "?" in reply and not QUESTION_WORDS.isdisjoint(tokens(reply)) else 0.0
        if history:
            out[i, 2] = len(reply_set & _union_of(history))
            out[i, 3] = len(reply_set & _union_of(history[-2::-2]))
            out[i, 4] = len(reply_set & _content_set(history[-1]))
        out[i, 5] = len(words) - len(reply_set)
        out[i, 6] = word_count(reply)
        out[i, 7] = len(words)
    return out
