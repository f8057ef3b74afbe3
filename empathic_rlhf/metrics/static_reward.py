"""The static utterance reward of the seed:

    reward = 0.15*sentiment + 0.25*question + 0.5*repetition + 0.05*similarity + 0.05*toxicity

Every term is oriented so that HIGHER IS BETTER, which the seed's formula leaves implicit:

==========  =====================================================================  ===========
term        value                                                                  range
==========  =====================================================================  ===========
sentiment   VADER compound of the reply (positive replies score higher)            [-1, 1]
question    1 if the reply has a question word and a '?' (asking is rewarded)      {0, 1}
repetition  -(conversation_repetition + word_repetition) / content words of reply  [-1, 0]
            i.e. minus the share of the reply's content words that repeat the
            conversation or the reply itself (0 = nothing repeated)
similarity  cosine similarity to the previous utterance (staying on topic)         [-1, 1]
toxicity    -P(offensive) (0 = clean)                                              [-1, 0]
==========  =====================================================================  ===========

Optionally each term is z-normalised with a mean and std fitted on a reference set of (history, reply) pairs,
so that a weight means the same for a binary term and a small-spread one. The reward is the same for any
caller: ``StaticReward(config)(histories, replies)`` returns one float per reply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import StaticRewardConfig
from .vector import METRIC_NAMES, metric_vectors

TERM_NAMES: tuple[str, ...] = ("sentiment", "question", "repetition", "similarity", "toxicity")
_COL = {name: METRIC_NAMES.index(name) for name in METRIC_NAMES}


def reward_terms(histories: list[list[str]], replies: list[str], *, with_similarity: bool = True) -> np.ndarray:
    """Oriented terms (``TERM_NAMES`` order, higher = better) for a batch: float array ``[n, 5]``."""
    vectors, content_words = metric_vectors(histories, replies, with_similarity=with_similarity)
    repeated = vectors[:, _COL["conversation_repetition"]] + vectors[:, _COL["word_repetition"]]
    return np.stack([
        vectors[:, _COL["sentiment"]],
        vectors[:, _COL["question"]],
        -repeated / np.maximum(content_words, 1.0),
        vectors[:, _COL["similarity"]],
        -vectors[:, _COL["toxicity"]],
    ], axis=1)


@dataclass
class TermStats:
    """Mean and standard deviation of each term on a reference set (the z-normalisation)."""

    mean: list[float]
    std: list[float]

    def to_json(self) -> dict:
        return {"terms": list(TERM_NAMES), "mean": self.mean, "std": self.std}

    @classmethod
    def from_json(cls, data: dict) -> TermStats:
        return cls(mean=[float(x) for x in data["mean"]], std=[float(x) for x in data["std"]])


class StaticReward:
    """Callable static reward: ``reward(histories, replies) -> np.ndarray`` of one float per reply."""

    def __init__(self, config: StaticRewardConfig | None = None, stats: TermStats | None = None):
        self.config = config or StaticRewardConfig()
        self.stats = stats
        self.weights = np.array([self.config.weights()[name] for name in TERM_NAMES])
        if self.config.z_normalize and stats is None and self.config.reference_file:
            self.fit_file(self.config.reference_file)

    @property
    def needs_encoder(self) -> bool:
        return self.config.similarity_weight != 0.0

    def terms(self, histories: list[list[str]], replies: list[str]) -> np.ndarray:
        """Oriented terms, z-normalised when the config asks for it: ``[n, 5]``."""
        terms = reward_terms(histories, replies, with_similarity=self.needs_encoder)
        if self.config.z_normalize:
            if self.stats is None:
                from ..errors import EmpathicError

                raise EmpathicError("static_reward.z_normalize is set but no reference set was fitted: "
                                    "set static_reward.reference_file")
            terms = (terms - np.array(self.stats.mean)) / np.array(self.stats.std)
        return terms

    def __call__(self, histories: list[list[str]], replies: list[str]) -> np.ndarray:
        return self.terms(histories, replies) @ self.weights

    def fit(self, histories: list[list[str]], replies: list[str]) -> TermStats:
        """Fit the z-normalisation on a reference set and keep it. A constant term keeps std 1 (no blow-up)."""
        raw = reward_terms(histories, replies, with_similarity=self.needs_encoder)
        std = raw.std(axis=0)
        self.stats = TermStats(mean=raw.mean(axis=0).tolist(), std=np.where(std > 1e-12, std, 1.0).tolist())
        return self.stats

    def fit_file(self, path: str) -> TermStats:
        histories, replies = read_pairs(path)
        return self.fit(histories, replies)


def read_pairs(path: str) -> tuple[list[list[str]], list[str]]:
    """Read ``{history: [str], reply: str}`` JSON lines (``-``: stdin); a bad record is an error naming file and
    line."""
    from ..errors import located
    from ..io import read_jsonl

    histories, replies = [], []
    for line, record in read_jsonl(path):
        history, reply = record.get("history"), record.get("reply")
        if not isinstance(reply, str):
            raise located(path, line, "field 'reply' must be a string")
        if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
            raise located(path, line, "field 'history' must be a list of strings (oldest first)")
        histories.append(history)
        replies.append(reply)
    return histories, replies


def static_reward(histories: list[list[str]], replies: list[str],
                  config: StaticRewardConfig | None = None) -> list[float]:
    """One static reward per (history, reply); the form a TRL reward function wraps."""
    return StaticReward(config)(histories, replies).tolist()
