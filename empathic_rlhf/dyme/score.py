"""Scoring with a trained DYME: predicted next-utterance metrics, the reply's actual metrics, and the reward

    reward = - Σ_k w_k (predicted_k - actual_k)^2 / Σ_k w_k        (scaled metrics, each in [0, 1])

so 0 is the best possible reward (the reply has exactly the metrics DYME expects at this point of the dialogue)
and -1 the worst. An RL reward function wraps :meth:`DymeScorer.reward` (see :func:`load_dyme_reward`).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from .empathy_metrics import empathy_columns, extend_conversations, uses_empathy
from .features import MinMaxScaler, history_features, select_features


class DymeScorer:
    """A loaded DYME model. Not thread-safe; load once per process (about 3 s with the encoder)."""

    def __init__(self, model_dir: str | Path, reward_weights: dict[str, float] | None = None):
        from .model import load_model

        self.model, meta = load_model(model_dir)
        self.metric_names: list[str] = meta["metric_names"]
        self.scaler = MinMaxScaler.from_json(meta["scaler"])
        self.max_history: int = meta["max_history"]
        self.feature_set: str = meta["config"].get("feature_set", "text+metrics")
        # A model trained with dyme.empathy_metrics carries their names; score with the same empathy model.
        self.empathy_model: str | None = meta["config"].get("empathy_model")
        weights = meta["config"].get("reward_weights", {}) if reward_weights is None else reward_weights
        unknown = set(weights) - set(self.metric_names)
        if unknown:
            from ..errors import EmpathicError

            raise EmpathicError(f"dyme.reward_weights: unknown metric(s) {sorted(unknown)} "
                                f"(known: {', '.join(self.metric_names)})")
        self.weights = np.array([float(weights.get(n, 1.0)) for n in self.metric_names])

    def predict(self, histories: list[list[str]]) -> np.ndarray:
        """Predicted scaled metric vector of the next utterance for each history: ``[n, K]`` in [0, 1]."""
        from ..metrics.encoder import encode
        from ..metrics.vector import conversation_vectors
        from .model import predict

        if any(not h for h in histories):
            raise ValueError("DYME predicts from at least one history utterance (positions >= 2)")
        unique = list(dict.fromkeys(tuple(h) for h in histories))  # RL scores k replies per history
        texts = list(dict.fromkeys(t for h in unique for t in h))
        table = encode(texts)
        row = {t: i for i, t in enumerate(texts)}
        features = {}
        raw_tables = [conversation_vectors(list(h), table[[row[t] for t in h]]) for h in unique]
        raw_tables = self._with_empathy([list(h) for h in unique], raw_tables)
        for h, raw in zip(unique, raw_tables):
            emb = table[[row[t] for t in h]]
            features[h] = history_features(emb, self.scaler.transform(raw), self.max_history)
        x = np.stack([features[tuple(h)] for h in histories]).astype(np.float32)
        x = select_features(x, self.feature_set, self.max_history)
        return predict(self.model, x)

    def actual(self, histories: list[list[str]], replies: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(raw, scaled)`` metric vectors of the replies themselves."""
        from ..metrics.vector import metric_vectors

        raw, _ = metric_vectors(histories, replies)
        if uses_empathy(self.metric_names):
            raw = np.concatenate([raw, empathy_columns(histories, replies, self.empathy_model)], axis=1)
        return raw, self.scaler.transform(raw)

    def _with_empathy(self, conversations: list[list[str]], tables: list[np.ndarray]) -> list[np.ndarray]:
        """The history's metric tables with the empathy columns appended, when this model was trained on them."""
        if not uses_empathy(self.metric_names):
            return tables
        return extend_conversations(conversations, tables, self.empathy_model)

    def distance_reward(self, predicted: np.ndarray, actual_scaled: np.ndarray) -> np.ndarray:
        return -(((predicted - actual_scaled) ** 2) @ self.weights) / self.weights.sum()

    def reward(self, histories: list[list[str]], replies: list[str]) -> list[float]:
        """One DYME reward per (history, reply), in [-1, 0]."""
        predicted = self.predict(histories)
        _, actual = self.actual(histories, replies)
        return self.distance_reward(predicted, actual).tolist()

    def score(self, histories: list[list[str]], replies: list[str]) -> list[dict]:
        """Readable records: predicted (scaled and in metric units), actual (both), reward."""
        predicted = self.predict(histories)
        raw, actual = self.actual(histories, replies)
        rewards = self.distance_reward(predicted, actual)
        predicted_raw = self.scaler.inverse(predicted)
        out = []
        for i in range(len(replies)):
            out.append({
                "reward": float(rewards[i]),
                "predicted": _named(self.metric_names, predicted_raw[i]),
                "actual": _named(self.metric_names, raw[i]),
                "predicted_scaled": _named(self.metric_names, predicted[i]),
                "actual_scaled": _named(self.metric_names, actual[i]),
            })
        return out


def _named(names, values) -> dict[str, float]:
    return {n: round(float(v), 4) for n, v in zip(names, values)}


@functools.lru_cache(maxsize=4)
def _scorer(model_dir: str) -> DymeScorer:
    return DymeScorer(model_dir)


def load_dyme_reward(model_dir: str | Path):
    """``dyme_reward(histories, replies) -> list[float]`` bound to one trained model (loaded once, cached)."""
    scorer = _scorer(str(Path(model_dir).resolve()))

    def dyme_reward(histories: list[list[str]], replies: list[str]) -> list[float]:
        return scorer.reward(histories, replies)

    return dyme_reward


def dyme_reward(histories: list[list[str]], replies: list[str], *, model_dir: str | Path) -> list[float]:
    """DYME reward of each (history, reply) with the model in ``model_dir`` (e.g. ``runs/<name>/dyme/model``)."""
    return load_dyme_reward(model_dir)(histories, replies)
