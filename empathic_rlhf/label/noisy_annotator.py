"""A model of a noisy human annotator choosing the best of a task's candidates, for simulated labelling.

The annotator sees the candidates in some order and picks candidate ``i`` with probability
``softmax(score_i / temperature + position_bias * [i is shown first])`` (a Bradley-Terry / Luce choice model):
``score`` is an oracle's opinion (any reward the toolkit computes), ``temperature`` how noisy the person is in the
oracle's units, and ``position_bias`` how much the first-shown reply is favoured (people are known to lean
towards the first option). The temperature is set from the agreement real people reach: earlier work on this
task measured Cohen's kappa ~0.41 between annotators, so :func:`temperature_for_kappa` finds the temperature at
which two simulated annotators (each shown a random order) agree with that kappa on a given pool of tasks.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import permutations


@dataclass(frozen=True)
class NoisyAnnotator:
    temperature: float  # > 0; in the oracle's score units (smaller: closer to the oracle)
    position_bias: float = 0.0  # added to the logit of the candidate shown first

    def probabilities(self, scores: Sequence[float]) -> list[float]:
        """Chance of choosing each candidate, ``scores`` given in the order shown."""
        logits = [s / self.temperature + (self.position_bias if i == 0 else 0.0) for i, s in enumerate(scores)]
        top = max(logits)
        weights = [math.exp(x - top) for x in logits]
        total = sum(weights)
        return [w / total for w in weights]

    def choose(self, scores: Sequence[float], rng: random.Random) -> int:
        """Index (in the shown order) of the candidate this annotator picks."""
        return rng.choices(range(len(scores)), weights=self.probabilities(scores))[0]


def choice_marginals(annotator: NoisyAnnotator, scores: Sequence[float]) -> list[float]:
    """Chance of choosing each candidate (in the task's own order) when the shown order is uniformly random."""
    marginal = [0.0] * len(scores)
    orders = list(permutations(range(len(scores))))
    for order in orders:
        for position, p in enumerate(annotator.probabilities([scores[i] for i in order])):
            marginal[order[position]] += p / len(orders)
    return marginal


def expected_kappa(annotator: NoisyAnnotator, tasks_scores: Sequence[Sequence[float]]) -> float:
    """Cohen's kappa expected between two independent such annotators over ``tasks_scores`` (one list of
    candidate scores per task; categories are the candidates' indices in the task, as label/agreement.py codes
    them)."""
    marginals = [choice_marginals(annotator, scores) for scores in tasks_scores]
    observed = sum(sum(p * p for p in m) for m in marginals) / len(marginals)
    width = max(len(m) for m in marginals)
    category_rate = [sum(m[k] for m in marginals if k < len(m)) / len(marginals) for k in range(width)]
    chance = sum(r * r for r in category_rate)
    return (observed - chance) / (1.0 - chance) if chance < 1.0 else 0.0


def temperature_for_kappa(tasks_scores: Sequence[Sequence[float]], kappa: float, position_bias: float = 0.0,
                          *, low: float = 1e-4, high: float = 1e4, steps: int = 60) -> float:
    """The temperature at which two annotators agree with Cohen's ``kappa`` on these tasks (bisection in log
    space: agreement only falls as the temperature rises). Raises ValueError when no temperature reaches it
    (e.g. every task's candidates score the same, or the position bias alone caps agreement below it)."""
    if not 0.0 < kappa < 1.0:
        raise ValueError(f"kappa must lie in (0, 1), got {kappa}")
    if expected_kappa(NoisyAnnotator(low, position_bias), tasks_scores) < kappa:
        raise ValueError(f"kappa {kappa} is out of reach on these tasks (their oracle scores are too close)")
    lo, hi = math.log(low), math.log(high)
    for _ in range(steps):
        mid = (lo + hi) / 2
        if expected_kappa(NoisyAnnotator(math.exp(mid), position_bias), tasks_scores) > kappa:
            lo = mid
        else:
            hi = mid
    return math.exp((lo + hi) / 2)
