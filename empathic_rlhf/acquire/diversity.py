"""Keep a batch diverse: the best-scoring tasks, greedily, skipping near-copies of what is already chosen.

Going down the tasks by score, a task is skipped when (a) ``max_per_conversation`` chosen tasks already come from
its conversation, or (b) its context embedding is closer than ``min_distance`` (cosine distance, 1 - cosine) to
the context of a task already chosen. Without this a batch can be 50 comparisons of one context the ensemble
happens to find hard -- 50 labels that teach one thing. Tasks of the same context have distance 0, so with
``min_distance > 0`` a batch holds at most one task per context.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np


def diverse_top(scores: np.ndarray, groups: Sequence[str], contexts: np.ndarray | None, budget: int, *,
                max_per_group: int, min_distance: float) -> list[int]:
    """Indices of at most ``budget`` tasks, highest score first, obeying both rules above. ``contexts`` holds
    unit context embeddings ``[T, d]`` (only read when ``min_distance > 0``). May return fewer than ``budget``
    when the rules leave too few tasks."""
    order = np.argsort(-scores, kind="stable")
    per_group: Counter = Counter()
    chosen: list[int] = []
    chosen_vectors = np.zeros((budget, contexts.shape[1])) if min_distance > 0 and contexts is not None else None
    for index in order:
        if len(chosen) >= budget:
            break
        group = groups[index]
        if per_group[group] >= max_per_group:
            continue
        if chosen_vectors is not None and chosen:
            nearest = float(np.max(chosen_vectors[:len(chosen)] @ contexts[index]))
            if 1.0 - nearest < min_distance:
                continue
        if chosen_vectors is not None:
            chosen_vectors[len(chosen)] = contexts[index]
        per_group[group] += 1
        chosen.append(int(index))
    return chosen
