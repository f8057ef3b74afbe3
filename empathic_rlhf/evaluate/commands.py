"""``empathic evaluate``: perplexity, BLEU, distinct-n, length and rewards of several models on the test split."""

from __future__ import annotations

from ..stage_cli import add_stage_command
from .stage import STAGE


def add_commands(subparsers) -> None:
    # rounds: rounds.count says which policy is the run's last (rounds/<N>/rl/model)
    add_stage_command(subparsers, STAGE, "Automatic metrics of several models side by side (test split).",
                      sections=("evaluate", "model", "data", "rounds"))
