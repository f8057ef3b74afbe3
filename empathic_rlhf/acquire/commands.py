"""``empathic acquire``: pick the sampled tasks people should label next (by an acquisition rule)."""

from __future__ import annotations

from ..stage_cli import add_stage_command
from .stage import STAGE

HELP = ("Pick the tasks of <run>/sample/tasks.jsonl that people should label next (the ones a cheap reward-model "
        "ensemble is least sure about) -> <run>/acquire/tasks.jsonl, for `empathic label import`.")


def add_commands(subparsers) -> None:
    # a stage of its own: the one runner skips it when up to date (pipeline.commands.run_one_stage)
    add_stage_command(subparsers, STAGE, HELP.split(" -> ")[0] + ".", sections=("acquire",), description=HELP)
