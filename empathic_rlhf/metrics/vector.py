"""The metric vector of an utterance: every metric of this package, in one fixed order.

DYME predicts this vector and the static reward combines parts of it, so both go through :func:`metric_vectors`.
"""

from __future__ import annotations

import numpy as np

from .lexical import LEXICAL_NAMES, lexical_metrics
from .toxicity import toxicity_batch

METRIC_NAMES: tuple[str, ...] = (
    "sentiment", "question", "conversation_repetition", "self_repetition", "utterance_repetition",
    "word_repetition", "similarity", "toxicity", "length",
)
_LEX = [LEXICAL_NAMES.index(n) for n in METRIC_NAMES if n in LEXICAL_NAMES]
_LEX_OUT = [METRIC_NAMES.index(n) for n in METRIC_NAMES if n in LEXICAL_NAMES]


def similarity(history: list[str], reply: str) -> float:
    """Cosine similarity (all-MiniLM-L6-v2) of the reply to the previous utterance; 0.0 without history."""
    return float(similarity_batch([history], [reply])[0])


def similarity_batch(
    histories: list[list[str]], replies: list[str], *, reply_vectors=None, previous_vectors=None
) -> np.ndarray:
    """Similarity to the previous utterance for a batch (one encoder call). Precomputed unit vectors may be given."""
    from .encoder import cosine_rows, encode

    has_prev = np.array([bool(h) for h in histories])
    out = np.zeros(len(replies), dtype=np.float64)
    if not has_prev.any():
        return out
    if reply_vectors is None or previous_vectors is None:
        rows = np.flatnonzero(has_prev)
        vectors = encode([replies[i] for i in rows] + [histories[i][-1] for i in rows])
        out[rows] = cosine_rows(vectors[: len(rows)], vectors[len(rows):])
    else:
        out[has_prev] = cosine_rows(reply_vectors[has_prev], previous_vectors[has_prev])
    return out


def metric_vectors(
    histories: list[list[str]],
    replies: list[str],
    *,
    with_similarity: bool = True,
    reply_vectors: np.ndarray | None = None,
    previous_vectors: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(vectors [n, len(METRIC_NAMES)], content_words [n])`` for a batch of (history, reply).

    ``with_similarity=False`` leaves the similarity column at 0 (no encoder load) for lexical-only uses.
    ``content_words`` (number of non-stopword tokens of each reply) is returned for the static reward's rates.
    """
    lex = lexical_metrics(histories, replies)
    out = np.zeros((len(replies), len(METRIC_NAMES)), dtype=np.float64)
    out[:, _LEX_OUT] = lex[:, _LEX]
    out[:, METRIC_NAMES.index("toxicity")] = toxicity_batch(replies)
    if with_similarity:
        out[:, METRIC_NAMES.index("similarity")] = similarity_batch(
            histories, replies, reply_vectors=reply_vectors, previous_vectors=previous_vectors
        )
    return out, lex[:, LEXICAL_NAMES.index("content_words")]


def conversation_vectors(utterances: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
    """Metric vectors of every utterance of one conversation, ``[T, len(METRIC_NAMES)]``.

    Row t measures utterance t with history ``utterances[:t]``; ``vectors`` are its precomputed unit embeddings.
    """
    histories = [utterances[:t] for t in range(len(utterances))]
    prev = None if vectors is None else np.roll(vectors, 1, axis=0)
    return metric_vectors(histories, list(utterances), reply_vectors=vectors, previous_vectors=prev)[0]
