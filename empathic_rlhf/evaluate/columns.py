"""Score columns of the evaluation table: each model's replies (and the gold replies) scored per context.

- ``reward_model``: the run's reward model (normalised), on the prompt exactly as π saw it;
- ``static_reward``: the seed's utterance reward; ``dyme``: the run's DYME metric, when trained;
- the empathy yardsticks (independent of every reward the policy was trained on): ``er``, ``ip``, ``ex`` (expected
  EPITOME level 0-2 of emotional reactions, interpretations, explorations), their mean ``empathy``, and
  ``emotion_fit`` (does the reply address the emotion the context expresses) -- see docs/empathy.md.

A column group maps (prompts, replies) to ``{column: scores}``; groups load their model once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..records import history_texts

ColumnGroup = Callable[[list[list[dict]], list[str]], dict[str, np.ndarray]]
EMPATHY_COLUMNS = ("empathy", "er", "ip", "ex", "emotion_fit")
REWARD_COLUMNS = ("reward_model", "static_reward", "dyme")


def _histories(prompts: list[list[dict]]) -> list[list[str]]:
    return [history_texts(p) for p in prompts]


def _static(prompts, replies):
    from ..metrics.static_reward import static_reward

    return {"static_reward": np.asarray(static_reward(_histories(prompts), replies), dtype=np.float64)}


def _reward_model_group(model_dir: Path) -> ColumnGroup:
    from ..reward.model import RewardModel

    model = RewardModel.load(model_dir)
    return lambda prompts, replies: {"reward_model": np.asarray(model.score(prompts, replies), dtype=np.float64)}


def _dyme_group(model_dir: Path) -> ColumnGroup:
    from ..dyme.score import load_dyme_reward

    dyme = load_dyme_reward(model_dir)
    return lambda prompts, replies: {"dyme": np.asarray(dyme(_histories(prompts), replies), dtype=np.float64)}


def _empathy_group() -> ColumnGroup:
    from ..empathy import load_empathy_scorer

    scorer = load_empathy_scorer()

    def score(prompts, replies):
        scores = scorer(_histories(prompts), replies)
        return {key: np.asarray(scores[key], dtype=np.float64) for key in EMPATHY_COLUMNS}
    return score


def column_groups(run_dir: Path | None, empathy: str = "auto") -> dict[str, ColumnGroup]:
    """The column groups available for ``run_dir``: static always, the reward model and DYME when trained, the
    empathy yardsticks per ``empathy`` (``build``: building them if needed, ``auto``: when already built,
    ``skip``)."""
    groups: dict[str, ColumnGroup] = {"static_reward": _static}
    if run_dir is not None:
        reward_dir = Path(run_dir) / "reward" / "model"
        if (reward_dir / "config.json").is_file():
            groups["reward_model"] = _reward_model_group(reward_dir)
        dyme_dir = Path(run_dir) / "dyme" / "model"
        if dyme_dir.is_dir() and any(dyme_dir.iterdir()):
            groups["dyme"] = _dyme_group(dyme_dir)
    from ..empathy import yardsticks_ready

    if empathy == "build" or (empathy == "auto" and yardsticks_ready()):
        groups["empathy"] = _empathy_group()
    elif empathy == "auto":
        print("[evaluate] empathy yardsticks not built: run `empathic empathy build` (or set "
              "--evaluate.empathy=build) to add the ER/IP/EX and emotion-fit columns", file=sys.stderr)
    return groups


def score_all(groups: dict[str, ColumnGroup], prompts: list[list[dict]], replies: list[str]) -> dict[str, np.ndarray]:
    """Every column of every group for (prompt, reply) rows."""
    out: dict[str, np.ndarray] = {}
    for group in groups.values():
        out.update(group(prompts, replies))
    return out
