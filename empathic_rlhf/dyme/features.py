"""DYME's input features and targets, built the same way for training and for scoring.

For a history of t utterances (t >= 1) predicting utterance t+1, the input is the concatenation of

1. text: the unit embedding of the last utterance and the mean embedding of all history utterances
   (2 x 384). The original DYME used frozen BERT's [CLS] of the concatenated history; we embed each utterance
   once with all-MiniLM-L6-v2 (the similarity metric needs those same embeddings), which costs one encoder pass
   per utterance instead of one per (history, position) and never truncates a long history at 256 tokens;
2. metric history: the min-max scaled metric vectors of the previous ``max_history`` utterances, MOST RECENT
   FIRST (so "the previous utterance" always sits in the same input slots), zero-padded, ``max_history x K``;
3. padding mask: 1 for each real slot of (2), ``max_history``;
4. position: one-hot of t (histories longer than ``max_history`` share the last slot), ``max_history``.

The target is the scaled metric vector of the next utterance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EMBED_DIM = 384


@dataclass
class MinMaxScaler:
    """Per-metric affine map to [0, 1] with clipping: ``(x - lo) / (hi - lo)``."""

    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def fit(cls, rows: np.ndarray, quantile: float = 1.0) -> MinMaxScaler:
        lo = np.quantile(rows, 1.0 - quantile, axis=0) if quantile < 1.0 else rows.min(axis=0)
        hi = np.quantile(rows, quantile, axis=0) if quantile < 1.0 else rows.max(axis=0)
        hi = np.where(hi > lo, hi, lo + 1.0)  # a constant metric maps to 0 instead of dividing by zero
        return cls(lo=np.asarray(lo, dtype=np.float64), hi=np.asarray(hi, dtype=np.float64))

    def transform(self, rows: np.ndarray) -> np.ndarray:
        return np.clip((rows - self.lo) / (self.hi - self.lo), 0.0, 1.0)

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        return scaled * (self.hi - self.lo) + self.lo

    def to_json(self) -> dict:
        return {"lo": self.lo.tolist(), "hi": self.hi.tolist()}

    @classmethod
    def from_json(cls, data: dict) -> MinMaxScaler:
        return cls(lo=np.array(data["lo"], dtype=np.float64), hi=np.array(data["hi"], dtype=np.float64))


FEATURE_SETS = ("text+metrics", "metrics", "text")


def select_features(x: np.ndarray, feature_set: str, max_history: int) -> np.ndarray:
    """Ablations: zero the text block (``metrics``) or the metric-history block (``text``); mask and position stay.
    The layout is fixed so one scorer serves all variants; a zeroed input column contributes nothing."""
    if feature_set == "text+metrics":
        return x
    x = x.copy()
    if feature_set == "metrics":
        x[:, : 2 * EMBED_DIM] = 0.0
    elif feature_set == "text":
        x[:, 2 * EMBED_DIM: x.shape[1] - 2 * max_history] = 0.0
    else:
        raise ValueError(f"unknown feature set {feature_set!r} (expected one of {FEATURE_SETS})")
    return x


def feature_dim(num_metrics: int, max_history: int) -> int:
    return 2 * EMBED_DIM + max_history * num_metrics + 2 * max_history


def history_features(embeddings: np.ndarray, scaled_metrics: np.ndarray, max_history: int) -> np.ndarray:
    """Feature vector of one history: ``embeddings [t, 384]`` and ``scaled_metrics [t, K]`` of its utterances."""
    t, k = scaled_metrics.shape
    if t < 1:
        raise ValueError("DYME needs at least one history utterance")
    recent = scaled_metrics[::-1][:max_history]  # most recent first
    metric_block = np.zeros((max_history, k))
    metric_block[: len(recent)] = recent
    mask = np.zeros(max_history)
    mask[: len(recent)] = 1.0
    position = np.zeros(max_history)
    position[min(t, max_history) - 1] = 1.0
    return np.concatenate([embeddings[-1], embeddings.mean(axis=0), metric_block.ravel(), mask, position])


def build_examples(embeddings: list[np.ndarray], scaled: list[np.ndarray], max_history: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All positions >= 2 (1-based) of all conversations -> ``(X [n, D], Y [n, K], history_lengths [n])``."""
    k = scaled[0].shape[1] if scaled else 0
    count = sum(max(len(m) - 1, 0) for m in scaled)
    x = np.zeros((count, feature_dim(k, max_history)), dtype=np.float32)
    y = np.zeros((count, k), dtype=np.float32)
    lengths = np.zeros(count, dtype=np.int64)
    row = 0
    for emb, met in zip(embeddings, scaled):
        for t in range(1, len(met)):
            x[row] = history_features(emb[:t], met[:t], max_history)
            y[row] = met[t]
            lengths[row] = t
            row += 1
    return x, y, lengths


def baseline_predictions(scaled: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The two baselines of the DYME paper, row-aligned with :func:`build_examples`.

    ``moving_average``: mean of all previous utterances' metrics; ``previous``: the previous utterance's metrics.
    """
    mean_rows, prev_rows = [], []
    for met in scaled:
        if len(met) < 2:
            continue
        cumulative = np.cumsum(met, axis=0)[:-1] / np.arange(1, len(met))[:, None]
        mean_rows.append(cumulative)
        prev_rows.append(met[:-1])
    k = scaled[0].shape[1] if scaled else 0
    def stack(rows):
        return np.concatenate(rows) if rows else np.zeros((0, k))

    return {"moving_average": stack(mean_rows), "previous": stack(prev_rows)}
