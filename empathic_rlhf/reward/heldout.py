"""Held-out evaluation of a reward model: pairwise accuracy and loss, overall and per annotator-agreement level."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from ..records import Label, Pair, as_dicts
from ..stats import proportion_ci


def agreement_levels(labels: list[Label]) -> dict[str, str]:
    """Per task: ``single`` (one judgement), ``unanimous`` or ``split`` (annotators chose different bests)."""
    bests: dict[str, list[str]] = defaultdict(list)
    for label in labels:
        if label.outcome == "best":
            bests[label.task_id].append(label.best)
    return {task: "single" if len(b) == 1 else ("unanimous" if len(set(b)) == 1 else "split")
            for task, b in bests.items()}


def pair_metrics(chosen: list[float], rejected: list[float]) -> dict:
    """Accuracy (chosen scores higher) and mean Bradley-Terry loss -log sigmoid(r_chosen - r_rejected)."""
    diffs = [c - r for c, r in zip(chosen, rejected)]
    if not diffs:
        return {"n": 0, "accuracy": None, "accuracy_ci95": None, "loss": None}
    loss = sum(math.log1p(math.exp(-d)) if d > -30 else -d for d in diffs) / len(diffs)
    interval = proportion_ci(sum(d > 0 for d in diffs), len(diffs))
    return {"n": len(diffs), "accuracy": interval["rate"], "accuracy_ci95": [interval["lo"], interval["hi"]],
            "loss": loss}


def evaluate_pairs(reward_model, pairs: list[Pair], labels: list[Label]) -> dict:
    """Score both sides of each held-out pair; report overall and per agreement level."""
    if not pairs:
        return {"overall": pair_metrics([], []), "by_agreement": {}}
    prompts = [as_dicts(p.prompt) for p in pairs]
    chosen = reward_model.score(prompts, [p.chosen[0].content for p in pairs], normalized=False)
    rejected = reward_model.score(prompts, [p.rejected[0].content for p in pairs], normalized=False)
    levels = agreement_levels(labels)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, pair in enumerate(pairs):
        groups[levels.get(pair.task_id, "single")].append(i)
    return {
        "overall": pair_metrics(chosen, rejected),
        "by_agreement": {level: pair_metrics([chosen[i] for i in idx], [rejected[i] for i in idx])
                         for level, idx in sorted(groups.items())},
        "sources": dict(Counter(p.source for p in pairs)),
    }
