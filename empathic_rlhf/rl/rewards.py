"""Reward components as TRL reward functions: ``f(prompts, completions, completion_ids, **kw) -> list[float]``.

Prompts and completions arrive in conversational form (lists of messages). Every component is a column of the one
scorer registry (:mod:`empathic_rlhf.scorers`), called on the prompt exactly as π saw it, so a component scores
(context, reply) as the same name does in evaluation, the battery and the simulated annotators.
"""

from __future__ import annotations

from collections.abc import Callable

# Components trained by a stage of the run: component name -> the stage whose ``model/`` folder holds it. ``pmi``
# is the context PMI under the run's own SFT model (judge/pmi.py): how much more likely the reply is after this
# conversation than after none, the anti-generic reward of Li et al. 2016.
RUN_MODELS = {"reward_model": "reward", "dyme": "dyme", "pmi": "sft"}


def reply_text(completion) -> str:
    return completion[0]["content"] if isinstance(completion, list) else str(completion)


def named(name: str, fn: Callable) -> Callable:
    fn.__name__ = name  # TRL logs each component as rewards/<name>/mean
    return fn


def as_trl_reward(name: str, column: Callable) -> Callable:
    """A registry column ``(prompts, replies) -> scores`` as a TRL reward function called ``name``."""
    def score(prompts, completions, **kwargs):
        return [float(v) for v in column([list(p) for p in prompts], [reply_text(c) for c in completions])]
    return named(name, score)


def component_reward(name: str, *, model_dir: str | None = None, static_reward=None) -> Callable:
    """The component ``name`` of ``rl.rewards``: ``model_dir`` for a trained one (RUN_MODELS), ``static_reward``
    (a StaticRewardConfig) for ``static``."""
    from ..scorers import column_scorer

    spec = f"{name}:{model_dir}" if model_dir else name
    return as_trl_reward(name, column_scorer(spec, static_reward=static_reward))


def reward_model_reward(reward_model) -> Callable:
    """A reward model already loaded (``RewardModel``), as the ``reward_model`` component."""
    return as_trl_reward("reward_model", lambda prompts, replies: reward_model.score(prompts, replies))


def missing_eos_penalty_fn(eos_token_id: int, penalty: float) -> Callable:
    """-penalty for a reply whose tokens hold no end-of-reply token (it was cut at the length limit)."""
    def score(prompts, completions, completion_ids, **kwargs):
        return [0.0 if eos_token_id in ids else -penalty for ids in completion_ids]
    return named("missing_eos", score)
