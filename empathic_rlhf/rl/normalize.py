"""One scale for every reward component: standardise each on π's own replies before RL starts.

The reward model comes out of its stage normalised (mean 0, std 1 on π's samples, as in Ziegler et al.), but the
other components do not: over π's replies the raw DYME reward spreads by ~0.04 and the static reward by ~0.1. With
the same ``beta``, such a component is too weak to move the policy against the KL penalty (a tiny RLOO run with the
raw DYME reward stayed flat for 96 steps; standardised, it rose at once: tests/dyme/test_dyme_rl.py), and its
weight in ``rl.rewards`` means nothing next to the reward model's. So before training, π answers the held-out
prompts (``samples`` replies each, temperature 1 as in RL), every component is scored, and from then on each is
replaced by ``(r - mean) / std``. Deterministic given the seed, so a resumed run gets the same statistics.
"""

from __future__ import annotations

from pathlib import Path

from .rewards import named

# Components that already have their scale: the reward model (normalised by its stage), the explicit penalty.
ALREADY_SCALED = ("reward_model", "missing_eos")


def component_statistics(policy, tokenizer, prompts: list[list[dict]], reward_fns, *, samples: int,
                         max_new_tokens: int, seed: int) -> dict[str, dict[str, float]]:
    """Mean and std of each component over π's replies to ``prompts`` (those in ALREADY_SCALED are skipped)."""
    import numpy as np

    from ..sample.config import SamplingConfig
    from ..sample.sampler import Sampler, TorchBackend

    to_scale = [fn for fn in reward_fns if fn.__name__ not in ALREADY_SCALED]
    if not to_scale:
        return {}
    params = SamplingConfig(temperature=1.0, top_p=1.0, max_new_tokens=max_new_tokens, batch_size=len(prompts))
    replies = Sampler(TorchBackend(policy, tokenizer), params).sample(prompts, k=samples, seed=seed, max_resample=0)
    repeated = [p for p in prompts for _ in range(samples)]
    completions = [[{"role": "assistant", "content": r}] for rs in replies for r in rs]
    stats = {}
    for fn in to_scale:
        values = np.asarray(fn(prompts=repeated, completions=completions), dtype=float)
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


def write_statistics(path: Path, stats: dict) -> None:
    from ..io import write_json

    write_json(Path(path), {"note": "mean/std of each raw component over π's held-out replies; RL used "
                                    "(r - mean) / std", "components": stats})

