"""Reward components as TRL reward functions: ``f(prompts, completions, completion_ids, **kw) -> list[float]``.

Prompts and completions arrive in conversational form (lists of messages). Each component scores
(context, reply) exactly as elsewhere in the toolkit: the reward model through ``RewardModel.score`` (the same
rendering as in its training), the static reward, DYME and the EPITOME empathy scorer through their own
functions of (history, reply).
"""

from __future__ import annotations

from collections.abc import Callable

from ..records import history_texts


def reply_text(completion) -> str:
    return completion[0]["content"] if isinstance(completion, list) else str(completion)


def named(name: str, fn: Callable) -> Callable:
    fn.__name__ = name  # TRL logs each component as rewards/<name>/mean
    return fn


def reward_model_reward(reward_model) -> Callable:
    def score(prompts, completions, **kwargs):
        return reward_model.score(list(prompts), [reply_text(c) for c in completions])
    return named("reward_model", score)


def static_reward_fn(config=None) -> Callable:
    from ..metrics.static_reward import StaticReward

    scorer = StaticReward(config)

    def score(prompts, completions, **kwargs):
        return scorer([history_texts(p) for p in prompts], [reply_text(c) for c in completions]).tolist()
    return named("static", score)


def dyme_reward_fn(model_dir: str) -> Callable:
    from ..dyme.score import load_dyme_reward

    scorer = load_dyme_reward(model_dir)

    def score(prompts, completions, **kwargs):
        return list(scorer([history_texts(p) for p in prompts], [reply_text(c) for c in completions]))
    return named("dyme", score)


def missing_eos_penalty_fn(eos_token_id: int, penalty: float) -> Callable:
    """-penalty for a reply whose tokens hold no end-of-reply token (it was cut at the length limit)."""
    def score(prompts, completions, completion_ids, **kwargs):
        return [0.0 if eos_token_id in ids else -penalty for ids in completion_ids]
    return named("missing_eos", score)


def empathy_reward_fn() -> Callable:
    """The EPITOME empathy scorer: the expected communication level (0..2) of each reply given its history."""
    from ..empathy import load_empathy_scorer  # lazily: it loads its own models

    scorer = load_empathy_scorer()

    def score(prompts, completions, **kwargs):
        scores = scorer([history_texts(p) for p in prompts], [reply_text(c) for c in completions])
        return [float(v) for v in scores["empathy"]]
    return named("empathy", score)
