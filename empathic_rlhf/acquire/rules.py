"""Acquisition rules: how much labelling a task is expected to teach the ensemble (higher: ask sooner).

Every rule reads ``P [T, M, k]``, the choice probabilities member m gives task t's candidates (a task with k = 2
is one comparison, P(a > b) and 1 - P(a > b)); padded candidates have probability 0. With ``p = mean_m P``:

- ``random``: a uniform random number -- the baseline.
- ``bt-half``: ``1 - (p_(1) - p_(2))``, one minus the gap between the two most likely choices. For k = 2 this is
  ``1 - |2 P(a > b) - 1|``: largest when the ensemble-mean P(a > b) is closest to 1/2.
- ``ensemble``: ``sum_i Var_m P[m, i]``, the members' disagreement (for k = 2, ``2 Var_m P(a > b)``).
- ``bald``: ``H(p) - mean_m H(P[m])``, the mutual information between the label and the model (Houlsby et al.
  2011, "Bayesian Active Learning by Disagreement"): high where the members are each confident but disagree, low
  where they agree the choice is a coin toss (labels there are mostly annotator noise).
"""

from __future__ import annotations

import numpy as np

from .config import RULES


def entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy in nats along ``axis`` (0 log 0 = 0)."""
    safe = np.where(p > 0, p, 1.0)
    return -np.sum(p * np.log(safe), axis=axis)


def acquisition_scores(rule: str, probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One score per task ``[T]`` by ``rule`` (see the module docstring)."""
    n_tasks = probabilities.shape[0]
    if rule == "random":
        return rng.random(n_tasks)
    mean = probabilities.mean(axis=1)  # [T, k]
    if rule == "bt-half":
        top_two = -np.sort(-mean, axis=1)[:, :2]
        return 1.0 - (top_two[:, 0] - top_two[:, 1])
    if rule == "ensemble":
        return probabilities.var(axis=1).sum(axis=1)
    if rule == "bald":
        return entropy(mean) - entropy(probabilities).mean(axis=1)
    raise ValueError(f"unknown acquisition rule {rule!r} (expected one of {', '.join(RULES)})")
