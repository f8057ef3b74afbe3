"""``empathic dpo``: offline preference optimisation from the labels, starting from π."""

from __future__ import annotations

from ..stage_cli import add_stage_command
from .stage import STAGE


def add_commands(subparsers) -> None:
    add_stage_command(subparsers, STAGE, "DPO from the pairwise labels, starting from π (stage 4, offline).")
