"""Utterance scorers: every way the toolkit can score replies, behind one signature and one registry.

A scorer maps a batch of contexts and replies to one float per reply::

    scorer(histories: list[list[str]], replies: list[str]) -> list[float]

where a history is the context's utterances, oldest first, without the knowledge segment. The same scorers serve
as synthetic-label oracles (``reward.labels: synthetic:<name>``), as evaluation columns and as RL reward
components, so a name means the same function everywhere. Heavy models load lazily, once per process.

Names: ``static`` (the seed's utterance reward), ``length`` (words; a deliberately naive oracle for tests),
``empathy`` (mean expected EPITOME level of ER/IP/EX, 0-2), ``er`` / ``ip`` / ``ex`` (one mechanism),
``emotion_fit``; ``dyme:<model dir>`` and ``reward_model:<model dir>`` take a trained model's folder.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import EmpathicError

BatchScorer = Callable[[list[list[str]], list[str]], list[float]]
EMPATHY_KEYS = ("empathy", "er", "ip", "ex", "emotion_fit")


def _length(histories: list[list[str]], replies: list[str]) -> list[float]:
    return [float(len(reply.split())) for reply in replies]


def _static(histories: list[list[str]], replies: list[str]) -> list[float]:
    from .metrics.static_reward import static_reward

    return list(static_reward(histories, replies))


def _empathy_scorer():
    from .empathy.scorer import shared_scorer  # one scorer per process

    return shared_scorer()


def _empathy_key(key: str) -> BatchScorer:
    def score(histories: list[list[str]], replies: list[str]) -> list[float]:
        return [float(v) for v in _empathy_scorer()(histories, replies)[key]]
    return score


def _dyme(model_dir: str) -> BatchScorer:
    from .dyme.score import load_dyme_reward

    return load_dyme_reward(model_dir)


def _reward_model(model_dir: str) -> BatchScorer:
    from .reward.model import RewardModel

    model = RewardModel.load(model_dir)

    def score(histories: list[list[str]], replies: list[str]) -> list[float]:
        return list(model.score([alternating_prompt(h) for h in histories], replies))
    return score


def alternating_prompt(history: list[str]) -> list[dict]:
    """Chat messages for a plain history: the newest turn is the other side's (``user``), roles alternate back."""
    n = len(history)
    return [{"role": "user" if (n - 1 - i) % 2 == 0 else "assistant", "content": t} for i, t in enumerate(history)]


SIMPLE: dict[str, BatchScorer] = {"static": _static, "length": _length,
                                   **{key: _empathy_key(key) for key in EMPATHY_KEYS}}
WITH_MODEL: dict[str, Callable[[str], BatchScorer]] = {"dyme": _dyme, "reward_model": _reward_model}


def scorer_named(name: str) -> BatchScorer:
    """The scorer called ``name`` (``dyme:<dir>`` / ``reward_model:<dir>`` for trained models)."""
    kind, _, model_dir = name.partition(":")
    if kind in WITH_MODEL and model_dir:
        return WITH_MODEL[kind](model_dir)
    if name in SIMPLE:
        return SIMPLE[name]
    known = ", ".join([*SIMPLE, *(f"{k}:<model dir>" for k in WITH_MODEL)])
    raise EmpathicError(f"unknown scorer {name!r} (known: {known})")
