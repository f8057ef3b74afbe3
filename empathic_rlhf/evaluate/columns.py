"""Score columns of the evaluation table: each model's replies (and the gold replies) scored per context, by the
scorers of the one registry (:mod:`empathic_rlhf.scorers`) on the prompt exactly as π saw it.

- ``judged_empathy`` (the headline) and ``context_fit``: the judge that reads the conversation (docs/empathy.md);
- ``reward_model``: the run's reward model (normalised); ``static_reward``: the seed's utterance reward;
  ``dyme``: the run's DYME metric, when trained;
- the EPITOME yardsticks: ``er``, ``ip``, ``ex`` (expected level 0-2), their mean ``empathy`` (the old composite:
  it never reads the conversation, so a stock phrase beats the human reply) and ``emotion_fit``;
- the reward-hacking monitors (``metrics/hacking.py``): ``stock``, ``near_copy``, ``question``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..scorers import REGISTRY, ScoreFn, load_scorer

ColumnGroup = ScoreFn
JUDGE_COLUMNS = REGISTRY["judge"].columns
EMPATHY_COLUMNS = REGISTRY["empathy"].columns
REWARD_COLUMNS = ("reward_model", "static_reward", "dyme")
HACKING_COLUMNS = ("stock", "near_copy", "question")


def column_groups(run_dir: Path | None, empathy: str = "auto", judge: str = "auto") -> dict[str, ColumnGroup]:
    """The scorers available for ``run_dir``: static always, the reward model and DYME when trained, the empathy
    yardsticks per ``empathy`` (``build``: building them if needed, ``auto``: when already built, ``skip``) and the
    judge per ``judge`` (``auto``: when built, ``skip``; never built here: ~30 minutes)."""
    groups: dict[str, ColumnGroup] = {"static_reward": load_scorer("static")}
    if run_dir is not None:
        reward_dir = Path(run_dir) / "reward" / "model"
        if (reward_dir / "config.json").is_file():
            groups["reward_model"] = load_scorer(f"reward_model:{reward_dir}")
        dyme_dir = Path(run_dir) / "dyme" / "model"
        if dyme_dir.is_dir() and any(dyme_dir.iterdir()):
            groups["dyme"] = load_scorer(f"dyme:{dyme_dir}")
    from ..empathy import yardsticks_ready
    from ..judge.scorer import judge_ready

    if empathy == "build" or (empathy == "auto" and yardsticks_ready()):
        groups["empathy"] = load_scorer("empathy")
    elif empathy == "auto":
        print("[evaluate] empathy yardsticks not built: run `empathic empathy build` (or set "
              "--evaluate.empathy=build) to add the ER/IP/EX and emotion-fit columns", file=sys.stderr)
    if judge == "auto" and judge_ready():  # (the judge reads the yardsticks too: they exist where it was built)
        groups["judge"] = load_scorer("judge")
    elif judge == "auto":
        print("[evaluate] the empathy judge is not built: run `empathic judge build` to add the judged_empathy "
              "column (the headline that reads the conversation)", file=sys.stderr)
    return groups


def score_all(groups: dict[str, ColumnGroup], prompts: list[list[dict]], replies: list[str]) -> dict[str, np.ndarray]:
    """Every column of every group for (prompt, reply) rows."""
    out: dict[str, np.ndarray] = {}
    for group in groups.values():
        out.update(group(prompts, replies))
    return out
