"""One scale for every reward component: standardise each on π's own RL rollouts before RL starts.

Components come on very different scales: over π's replies the raw DYME reward spreads by ~0.04, the static reward
by ~0.1, the EPITOME empathy level by up to 2. The reward model leaves its stage normalised, but on *sample-stage*
candidates (temperature 0.7, top-p 0.9), not on the temperature-1 replies RL draws, whose spread is wider. With the
same ``beta``, a component of small spread is too weak to move the policy against the KL penalty (a tiny RLOO run
with the raw DYME reward stayed flat for 96 steps; standardised, it rose at once: tests/dyme/test_dyme_rl.py), and
the weights in ``rl.rewards`` mean nothing unless the components share a scale. So before training π answers RL
prompts exactly as RL samples (``rl/heldout.sample_rollouts``: temperature 1, no top-p/top-k, stop at EOS), every
component -- the reward model included -- is scored on those same replies, and from then on each is replaced by
``(r - mean) / std``. Only the missing-end-of-reply penalty keeps its value (in units of that spread). Deterministic
given the seed, so a resumed run gets the same statistics.
"""

from __future__ import annotations

from pathlib import Path

from .rewards import named

# An explicit penalty, already in the unit the standardised components share: not rescaled.
NOT_SCALED = ("missing_eos",)


def component_statistics(policy, tokenizer, prompts: list[list[dict]], reward_fns, *, samples: int,
                         max_new_tokens: int, seed: int) -> dict[str, dict[str, float]]:
    """Mean and std of each component over the same π rollouts to ``prompts`` (NOT_SCALED ones skipped)."""
    import numpy as np

    from .heldout import sample_rollouts

    to_scale = [fn for fn in reward_fns if fn.__name__ not in NOT_SCALED]
    if not to_scale:
        return {}
    rollouts = sample_rollouts(policy, tokenizer, prompts, max_new_tokens, seed, samples)
    repeated = [p for p in prompts for _ in range(samples)]
    completions = [[{"role": "assistant", "content": r}] for r in rollouts.replies]
    stats = {}
    for fn in to_scale:
        values = np.asarray(fn(prompts=repeated, completions=completions, completion_ids=rollouts.completion_ids),
                            dtype=float)
        stats[fn.__name__] = {"mean": float(values.mean()), "std": float(values.std()), "n": int(values.size)}
    return stats


def standardised(reward_fns, stats: dict[str, dict[str, float]]) -> list:
    """The components with ``(r - mean) / std`` applied where ``stats`` has them (a zero spread leaves r as is)."""
    out = []
    for fn in reward_fns:
        s = stats.get(fn.__name__)
        if s is None or s["std"] <= 1e-12:
            out.append(fn)
            continue
        out.append(named(fn.__name__, _scaled(fn, s["mean"], s["std"])))
    return out


def _scaled(fn, mean: float, std: float):
    def score(*args, **kwargs):
        return [(value - mean) / std for value in fn(*args, **kwargs)]
    return score


def write_statistics(path: Path, stats: dict, settings: dict) -> None:
    from ..io import write_json

    write_json(Path(path), {"note": "mean/std of each raw component over the same rollouts of π (RL sampling "
                                    "settings); RL used (r - mean) / std for each", "settings": settings,
                            "components": stats})
