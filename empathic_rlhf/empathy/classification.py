"""Classification scores of the yardsticks' test tables: macro-F1 and its bootstrap interval."""

from __future__ import annotations

import numpy as np

from ..stats import statistic_ci


def macro_f1(truth, predicted, labels) -> float:
    """Unweighted mean F1 over ``labels``; a label with no true and no predicted item counts as F1 0 (as
    scikit-learn's ``zero_division=0``), so a classifier cannot score by ignoring a rare class. Computed from the
    confusion counts with numpy: the bootstrap calls it thousands of times."""
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    scores = []
    for label in labels:
        hit = np.count_nonzero((truth == label) & (predicted == label))
        denominator = np.count_nonzero(truth == label) + np.count_nonzero(predicted == label)
        scores.append(2.0 * hit / denominator if denominator else 0.0)
    return float(np.mean(scores))


def bootstrap_interval(truth, predicted, statistic, *, rounds: int = 1000, seed: int = 0) -> list[float]:
    """95% bootstrap interval of ``statistic(truth, predicted)``, resampling items (``stats.statistic_ci``)."""
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    if len(truth) == 0:
        return [float("nan"), float("nan")]
    ci = statistic_ci(lambda idx: statistic(truth[idx], predicted[idx]), len(truth), resamples=rounds, seed=seed,
                      bounds=(0.0, 1.0))
    return [ci["lo"], ci["hi"]]
