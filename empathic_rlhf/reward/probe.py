"""Does the reward model reward empathy, or only the style of human replies?

A reward model trained on gold-vs-policy pairs can reach a high held-out accuracy by learning what human replies
look like (length, punctuation, topic words) without preferring empathic ones: a frozen-MiniLM probe tells gold
from π's replies 85% of the time, yet its score does not rise with EPITOME's human empathy levels (Spearman
-0.06). So the reward stage measures its model on two independent yardsticks as well:

- ``epitome``: Spearman correlation of the reward with the human-annotated empathy of EPITOME responses (the sum
  of the ER, IP and EX levels, 0-6), on the EPITOME test split -- people's judgement, other domain (Reddit);
- ``yardsticks``: Spearman correlation of the reward with the empathy classifiers' score (mean expected level)
  of π's held-out candidate replies -- the replies RL will actually move, classifier judgement.

Each with a 95% bootstrap interval over the items.
"""

from __future__ import annotations

import sys

import numpy as np

from ..errors import EmpathicError
from ..stats import statistic_ci

POST_WORDS = 150  # EPITOME posts run to 500+ words; the reward model reads the newest part of a context


def spearman_ci(a, b, *, seed: int = 0, resamples: int = 1000) -> dict:
    """Spearman's rho of two score lists with a 95% bootstrap interval over the items, and its p-value."""
    from scipy.stats import spearmanr

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return {"rho": None, "lo": None, "hi": None, "p": None, "n": len(a)}

    def rho(index):
        value = spearmanr(a[index], b[index]).statistic
        return 0.0 if np.isnan(value) else float(value)

    ci = statistic_ci(rho, len(a), resamples=resamples, seed=seed, bounds=(-1.0, 1.0))
    return {"rho": ci["mean"], "lo": ci["lo"], "hi": ci["hi"], "p": float(spearmanr(a, b).pvalue), "n": len(a)}


def epitome_agreement(reward_model, limit: int = 600, seed: int = 0) -> dict:
    """Reward vs EPITOME's human empathy levels (ER+IP+EX) on the first ``limit`` pairs of its test split."""
    from ..empathy.epitome import load_examples, split_examples

    test = split_examples(load_examples())["test"][:limit]
    prompts = [[{"role": "user", "content": " ".join(p.post.split()[-POST_WORDS:])}] for p in test]
    scores = reward_model.score(prompts, [p.response for p in test], normalized=False)
    return spearman_ci(scores, [sum(p.levels) for p in test], seed=seed)


def yardstick_agreement(reward_model, prompts: list[list[dict]], replies: list[str], seed: int = 0) -> dict:
    """Reward vs the empathy classifiers' mean expected level on the same replies (when they are built: the
    reward stage never waits for a build)."""
    from ..empathy import load_empathy_scorer, yardsticks_ready
    from ..records import history_texts

    if not yardsticks_ready():
        raise EmpathicError("the empathy classifiers are not built (`empathic empathy build`)")
    empathy = load_empathy_scorer()([history_texts(p) for p in prompts], replies)["empathy"]
    return spearman_ci(reward_model.score(prompts, replies, normalized=False), empathy, seed=seed)


def empathy_agreement(reward_model, prompts: list[list[dict]], replies: list[str], *, limit: int = 600,
                      seed: int = 0) -> dict:
    """Both agreements; a yardstick that cannot be loaded (no EPITOME data, classifiers not built) is reported as
    skipped with the reason instead of failing the reward stage."""
    out = {}
    for name, measure in (("epitome", lambda: epitome_agreement(reward_model, limit, seed)),
                          ("yardsticks", lambda: yardstick_agreement(reward_model, prompts, replies, seed))):
        try:
            out[name] = measure()
        except (EmpathicError, ImportError, FileNotFoundError) as e:
            print(f"[reward] empathy agreement with {name} skipped: {e}", file=sys.stderr)
            out[name] = {"skipped": str(e)}
    return out
