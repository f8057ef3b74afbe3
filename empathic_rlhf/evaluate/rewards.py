"""Reward columns of the evaluation table: the run's reward model (normalised), the static utterance reward and
DYME, each the mean over a model's generated replies. A column appears when its model exists in the run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Scorer = Callable[[list[list[dict]], list[str]], list[float]]


def reward_scorers(run_dir: Path | None) -> dict[str, Scorer]:
    """``{column: scorer(prompts, replies) -> scores}`` for the reward models available in ``run_dir``."""
    from ..metrics.static_reward import static_reward
    from ..rl.rewards import history_texts

    def _histories(prompts):
        return [history_texts(p) for p in prompts]

    scorers: dict[str, Scorer] = {"static_reward": lambda p, r: static_reward(_histories(p), r)}
    if run_dir is None:
        return scorers
    reward_model_dir = Path(run_dir) / "reward" / "model"
    if (reward_model_dir / "config.json").is_file():
        from ..reward.model import RewardModel

        reward_model = RewardModel.load(reward_model_dir)
        scorers["reward_model"] = lambda p, r: reward_model.score(p, r)
    dyme_dir = Path(run_dir) / "dyme" / "model"
    if dyme_dir.is_dir() and any(dyme_dir.iterdir()):
        from ..dyme.score import load_dyme_reward

        dyme = load_dyme_reward(dyme_dir)
        scorers["dyme"] = lambda p, r: dyme(_histories(p), r)
    return scorers


def reward_columns(scorers: dict[str, Scorer], prompts: list[list[dict]], replies: list[str]) -> dict[str, float]:
    """Mean score of ``replies`` under each scorer."""
    return {name: round(sum(scores) / len(scores), 4) if (scores := scorer(prompts, replies)) else None
            for name, scorer in scorers.items()}
