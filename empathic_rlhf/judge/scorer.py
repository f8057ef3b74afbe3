"""The judge others call: ``load_judge()(histories, replies) -> {judged_empathy, context_fit}``.

- ``context_fit``: the context-fit model's logit (``fit.py``): was this reply written for this conversation?
- ``judged_empathy``: the headline, ``fit`` combined with the EPITOME mechanisms' expected level sum (0-6, the
  empathy yardsticks) by the rule the build chose on ED valid and EPITOME valid (``combination.json``). Named
  apart from the old ``empathy`` composite on purpose: that one never reads the conversation.

Where the judge comes from, first match wins: the ``path`` argument, ``$EMPATHIC_JUDGE_MODEL``, else the cache
(``cache_dir()/judge/<version>``), built there with ``empathic judge build`` (~30 minutes on a 2-core CPU; never
built implicitly by a stage).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import numpy as np

from ..errors import EmpathicError
from ..paths import cache_dir
from ..records import alternating_prompt

MODEL_ENV = "EMPATHIC_JUDGE_MODEL"
MODEL_VERSION = "v1"
FIT_FOLDER = "fit"
COMBINATION_FILE = "combination.json"
SCORE_NAMES = ("judged_empathy", "context_fit")


def default_judge_dir() -> Path:
    return cache_dir() / "judge" / MODEL_VERSION


def combine(fit: np.ndarray, level_sum: np.ndarray, rule: dict) -> np.ndarray:
    """The headline from the fit logit and the mechanisms' level sum. Rules (chosen by the build):

    - ``{"kind": "fit"}``: the fit logit alone;
    - ``{"kind": "additive", "weight": w}``: fit + w * level_sum (log-odds plus empathy);
    - ``{"kind": "gated"}``: sigmoid(fit) * (1 + level_sum) / 7 -- empathy counts only as far as the reply fits.
    """
    fit, level_sum = np.asarray(fit, dtype=np.float64), np.asarray(level_sum, dtype=np.float64)
    if rule["kind"] == "fit":
        return fit
    if rule["kind"] == "additive":
        return fit + float(rule["weight"]) * level_sum
    if rule["kind"] == "gated":
        return (1.0 / (1.0 + np.exp(-fit))) * (1.0 + level_sum) / 7.0
    raise EmpathicError(f"unknown judge combination {rule!r}")


class Judge:
    """Scores (history, reply) pairs with the fit model and the mechanism classifiers."""

    def __init__(self, folder: str | os.PathLike, empathy=None):
        from ..reward.model import RewardModel

        self.folder = Path(folder)
        self.fit_model = RewardModel.load(self.folder / FIT_FOLDER)
        self.rule = json.loads((self.folder / COMBINATION_FILE).read_text(encoding="utf-8"))["rule"]
        self._empathy = empathy

    @property
    def empathy(self):
        if self._empathy is None:
            from ..empathy.scorer import shared_scorer

            self._empathy = shared_scorer()
        return self._empathy

    def fit(self, histories: list[list[str]], replies: list[str], batch_size: int = 32) -> np.ndarray:
        prompts = [alternating_prompt(list(h)) for h in histories]
        return np.asarray(self.fit_model.score(prompts, list(replies), normalized=False, batch_size=batch_size))

    def level_sum(self, histories: list[list[str]], replies: list[str]) -> np.ndarray:
        scores = self.empathy(histories, replies)
        return scores["er"] + scores["ip"] + scores["ex"]

    def __call__(self, histories: list[list[str]], replies: list[str]) -> dict[str, np.ndarray]:
        if len(histories) != len(replies):
            raise EmpathicError(f"judge: {len(histories)} histories but {len(replies)} replies")
        fit = self.fit(histories, replies)
        return {"judged_empathy": combine(fit, self.level_sum(histories, replies), self.rule), "context_fit": fit}


def judge_ready(path: str | os.PathLike | None = None) -> bool:
    folder = _folder(path)
    return (folder / COMBINATION_FILE).is_file() and (folder / FIT_FOLDER).is_dir()


def _folder(path: str | os.PathLike | None) -> Path:
    explicit = path or os.environ.get(MODEL_ENV)
    return Path(explicit) if explicit else default_judge_dir()


def load_judge(path: str | os.PathLike | None = None) -> Judge:
    """The judge from ``path``, else ``$EMPATHIC_JUDGE_MODEL``, else the cache; an error naming the build command
    when none is there (a stage never spends half an hour building it unasked)."""
    folder = _folder(path)
    if not judge_ready(folder):
        raise EmpathicError(f"{folder}: no empathy judge here (build it with `empathic judge build`, ~30 minutes "
                            f"on a 2-core CPU, or point ${MODEL_ENV} at a built one)")
    return Judge(folder)


@functools.lru_cache(maxsize=2)
def shared_judge(path: str | None = None) -> Judge:
    """One judge per process and folder."""
    return load_judge(path)
