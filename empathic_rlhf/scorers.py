"""Every way the toolkit can score replies: one registry of scorers over (prompts as messages, replies).

A scorer, once loaded, maps a batch to named score arrays, one float per reply::

    scorer(prompts: list[list[dict]], replies: list[str]) -> {column: np.ndarray}

A prompt is the context as chat messages exactly as π saw it (knowledge segment included, ``Task.prompt``,
``Sample.prompt``); a plain history of utterances becomes one with ``records.alternating_prompt``. Text-only scorers
read the history out of it (``records.history_texts``); a reward model reads it whole, as it was trained.

The same names serve as synthetic-label oracles (``reward.labels: synthetic:<name>``, ``label simulate
--oracle``), RL reward components (``rl.rewards``), evaluation columns and the robustness battery, so a name means
the same function everywhere. A single column is asked for by its name (``er``, ``judged_empathy``); trained models
by ``<name>:<model dir>``. Heavy models load lazily, once per process.

| name | columns | what |
|---|---|---|
| ``length`` | length | words (a deliberately naive oracle for tests) |
| ``static`` | static_reward | the seed's utterance reward |
| ``empathy`` | empathy, er, ip, ex, emotion_fit | EPITOME mechanisms (context-free) and emotion fit |
| ``judge`` | judged_empathy, context_fit | the judge that reads the conversation (``judge/``) |
| ``dyme:<dir>`` | dyme | a trained DYME model |
| ``reward_model:<dir>`` | reward_model | a trained reward model (normalised) |
| ``pmi:<lm dir>`` | context_pmi | per-token PMI of reply and conversation under a causal LM (``judge/pmi.py``) |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import EmpathicError

Scores = dict[str, np.ndarray]
ScoreFn = Callable[[list[list[dict]], list[str]], Scores]
ColumnFn = Callable[[list[list[dict]], list[str]], np.ndarray]


def _histories(prompts: list[list[dict]]) -> list[list[str]]:
    from .records import history_texts

    return [history_texts(p) for p in prompts]


def _array(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def _length(model_dir: str | None, options: dict) -> ScoreFn:
    return lambda prompts, replies: {"length": _array([len(r.split()) for r in replies])}


def _static(model_dir: str | None, options: dict) -> ScoreFn:
    from .metrics.static_reward import StaticReward

    scorer = StaticReward(options.get("static_reward"))
    return lambda prompts, replies: {"static_reward": _array(scorer(_histories(prompts), list(replies)))}


def _empathy(model_dir: str | None, options: dict) -> ScoreFn:
    from .empathy.scorer import shared_scorer  # one per process: prepare's knowledge scores one item at a time

    def score(prompts, replies):
        scores = shared_scorer()(_histories(prompts), list(replies))
        return {key: _array(scores[key]) for key in REGISTRY["empathy"].columns}
    return score


def _judge(model_dir: str | None, options: dict) -> ScoreFn:
    from .judge.scorer import shared_judge

    judge = shared_judge(model_dir)
    return lambda prompts, replies: {k: _array(v) for k, v in judge(_histories(prompts), list(replies)).items()}


def _dyme(model_dir: str | None, options: dict) -> ScoreFn:
    from .dyme.score import load_dyme_reward

    dyme = load_dyme_reward(model_dir)
    return lambda prompts, replies: {"dyme": _array(dyme(_histories(prompts), list(replies)))}


def _reward_model(model_dir: str | None, options: dict) -> ScoreFn:
    from .reward.model import RewardModel

    model = RewardModel.load(model_dir)
    return lambda prompts, replies: {"reward_model": _array(model.score(list(prompts), list(replies)))}


def _pmi(model_dir: str | None, options: dict) -> ScoreFn:
    from .judge.pmi import ContextPMI

    pmi = ContextPMI(model_dir)
    return lambda prompts, replies: {"context_pmi": pmi(list(prompts), list(replies))}


@dataclass(frozen=True)
class Scorer:
    """A registry entry: the columns a scorer gives and how to load it (``model_dir`` for trained models)."""

    name: str
    columns: tuple[str, ...]
    loader: Callable[[str | None, dict], ScoreFn]
    takes_model_dir: bool = False

    def load(self, model_dir: str | None = None, **options) -> ScoreFn:
        """The loaded scorer; ``options``: ``static_reward`` (a StaticRewardConfig) for ``static``."""
        if self.takes_model_dir and not model_dir:
            raise EmpathicError(f"scorer {self.name!r} needs a trained model: {self.name}:<model dir>")
        return self.loader(model_dir, options)


REGISTRY: dict[str, Scorer] = {s.name: s for s in (
    Scorer("length", ("length",), _length),
    Scorer("static", ("static_reward",), _static),
    Scorer("empathy", ("empathy", "er", "ip", "ex", "emotion_fit"), _empathy),
    Scorer("judge", ("judged_empathy", "context_fit"), _judge),
    Scorer("dyme", ("dyme",), _dyme, takes_model_dir=True),
    Scorer("reward_model", ("reward_model",), _reward_model, takes_model_dir=True),
    Scorer("pmi", ("context_pmi",), _pmi, takes_model_dir=True),
)}


def _entry_and_column(name: str) -> tuple[Scorer, str]:
    if name in REGISTRY and len(REGISTRY[name].columns) == 1:
        return REGISTRY[name], REGISTRY[name].columns[0]
    for entry in REGISTRY.values():
        if name in entry.columns:
            return entry, name
    known = sorted({*REGISTRY, *(c for e in REGISTRY.values() for c in e.columns)})
    raise EmpathicError(f"unknown scorer {name!r} (known: {', '.join(known)}; trained models as "
                        f"dyme:<model dir>, reward_model:<model dir> or pmi:<causal LM dir>)")


def load_scorer(spec: str, **options) -> ScoreFn:
    """The scorer ``spec`` names (a registry name, or ``name:<model dir>``), giving all its columns."""
    name, _, model_dir = spec.partition(":")
    if name not in REGISTRY:
        _entry_and_column(name)  # the error listing what is known
        raise EmpathicError(f"{spec!r} names one column; load its scorer {_entry_and_column(name)[0].name!r}")
    return REGISTRY[name].load(model_dir or None, **options)


def column_scorer(spec: str, **options) -> ColumnFn:
    """One column as a function ``(prompts, replies) -> np.ndarray``: ``er``, ``judged_empathy``, ``static``,
    ``reward_model:<dir>`` ... (an oracle, an RL reward component, a battery row)."""
    name, _, model_dir = spec.partition(":")
    entry, column = _entry_and_column(name)
    score = entry.load(model_dir or None, **options)
    return lambda prompts, replies: score(prompts, replies)[column]


def scorer_names() -> list[str]:
    """Every name :func:`column_scorer` accepts without a model folder."""
    return sorted({*(e.name for e in REGISTRY.values() if not e.takes_model_dir),
                   *(c for e in REGISTRY.values() if not e.takes_model_dir for c in e.columns)})
