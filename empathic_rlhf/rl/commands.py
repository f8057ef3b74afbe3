"""``empathic rl``: online RL of π against the reward, with a KL penalty to π."""

from __future__ import annotations

from ..stage_cli import add_stage_command
from .stage import STAGE


def add_commands(subparsers) -> None:
    add_stage_command(subparsers, STAGE, "RL (RLOO/GRPO) against the reward with a KL penalty to π (stage 4).")
