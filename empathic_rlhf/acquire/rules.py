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
- ``epig``: expected predictive information gain (Bickford Smith et al., AISTATS 2023): the mutual information
  between the task's label and the label of a *target* task, averaged over targets drawn from the pool -- how much
  the label is expected to tell about the predictions the model will be asked to make, not about its parameters.
  BALD also rewards tasks whose uncertainty concerns nothing else in the pool (outliers: replies with rare
  features); EPIG does not. With ``J[i, j] = mean_m P[t, m, i] P[s, m, j]`` (members as posterior samples),
  ``EPIG(t) = mean_s sum_ij J log(J / (p[t, i] p[s, j]))``, over ``EPIG_TARGETS`` pool tasks drawn at random.
"""

from __future__ import annotations

import numpy as np

from .config import RULES


def entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy in nats along ``axis`` (0 log 0 = 0)."""
    safe = np.where(p > 0, p, 1.0)
    return -np.sum(p * np.log(safe), axis=axis)


EPIG_TARGETS = 256  # pool tasks standing in for the target distribution (the estimate's cost is linear in it)


def expected_predictive_information_gain(probabilities: np.ndarray, targets: np.ndarray,
                                         chunk: int = 512) -> np.ndarray:
    """EPIG ``[T]`` of each task of ``probabilities [T, M, k]`` about the tasks ``targets [S, M, k']``."""
    members = probabilities.shape[1]
    target_mean = targets.mean(axis=1)  # [S, k']
    scores = []
    for start in range(0, probabilities.shape[0], chunk):
        block = probabilities[start:start + chunk]
        joint = np.einsum("tmi,smj->tsij", block, targets) / members
        independent = block.mean(axis=1)[:, None, :, None] * target_mean[None, :, None, :]
        ratio = np.where(joint > 0, joint / np.where(independent > 0, independent, 1.0), 1.0)
        scores.append((joint * np.log(ratio)).sum(axis=(2, 3)).mean(axis=1))
    return np.concatenate(scores)


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
    if rule == "epig":
        targets = rng.choice(n_tasks, size=min(n_tasks, EPIG_TARGETS), replace=False)
        return expected_predictive_information_gain(probabilities, probabilities[targets])
    raise ValueError(f"unknown acquisition rule {rule!r} (expected one of {', '.join(RULES)})")
