"""Optional extra DYME metrics: the empathy mechanisms (EPITOME ER / IP / EX, expected level 0-2) and emotion fit.

The DYME paper lists empathy mechanisms among the metrics a dynamic metric can predict. With
``dyme.empathy_metrics: true`` these four columns are appended to every utterance's metric vector, so DYME learns
e.g. "after a sad disclosure the listener's next turn shows an Emotional Reaction" and its reward asks a reply to
match that. Off by default: models trained without them keep their 9-metric layout, and a saved model says which
layout it has (its ``metric_names``), so the scorer computes exactly the columns it was trained on.
"""

from __future__ import annotations

import numpy as np

EMPATHY_METRIC_NAMES: tuple[str, ...] = ("er", "ip", "ex", "emotion_fit")


def uses_empathy(metric_names) -> bool:
    return any(name in EMPATHY_METRIC_NAMES for name in metric_names)


def empathy_columns(histories: list[list[str]], replies: list[str], model_dir: str | None = None) -> np.ndarray:
    """``[n, 4]`` (ER, IP, EX, emotion fit) of each (history, reply), in ``EMPATHY_METRIC_NAMES`` order."""
    from ..empathy.scorer import shared_scorer

    scores = shared_scorer(model_dir)(histories, replies)  # loaded once per process: RL calls this every batch
    return np.stack([scores[name] for name in EMPATHY_METRIC_NAMES], axis=1) if replies else \
        np.zeros((0, len(EMPATHY_METRIC_NAMES)))


def extend_conversations(conversations: list[list[str]], metrics: list[np.ndarray],
                         model_dir: str | None = None) -> list[np.ndarray]:
    """Append the empathy columns to each conversation's ``[T, K]`` metric table (utterance t, history ``[:t]``),
    in one batched scorer call."""
    histories = [c[:t] for c in conversations for t in range(len(c))]
    replies = [u for c in conversations for u in c]
    extra = empathy_columns(histories, replies, model_dir)
    bounds = np.cumsum([len(c) for c in conversations])[:-1]
    pieces = np.split(extra, bounds) if conversations else []
    return [np.concatenate([m, e], axis=1) for m, e in zip(metrics, pieces)]
