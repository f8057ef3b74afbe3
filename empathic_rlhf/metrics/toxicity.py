"""Toxicity: probability that a reply is offensive, from ``alt-profanity-check`` (a maintained PyPI package).

Why this classifier: it ships its trained model (a linear SVM over a TF-IDF bag of words, calibrated to a
probability) inside the wheel, so it loads with no network; ``detoxify`` downloads its weights from GitHub at run
time and fails offline. It is a bag-of-words model: it catches insults and profanity, not subtle toxicity.
Batched calls are fast (one sparse matrix product for the whole batch).
"""

from __future__ import annotations

import functools

import numpy as np

from ..errors import EmpathicError


@functools.lru_cache(maxsize=1)
def _predict_prob():
    try:
        from profanity_check import predict_prob
    except ImportError as e:
        raise EmpathicError(f"the toxicity metric needs: pip install alt-profanity-check ({e})") from None
    return predict_prob


def toxicity_batch(replies: list[str]) -> np.ndarray:
    """Probability of offensive language for each reply, float array in [0, 1]."""
    if not replies:
        return np.zeros(0, dtype=np.float64)
    return np.asarray(_predict_prob()(list(replies)), dtype=np.float64)


def toxicity(history: list[str], reply: str) -> float:
    """Probability in [0, 1] that the reply is offensive (higher = more toxic). The history is not used."""
    return float(toxicity_batch([reply])[0])
