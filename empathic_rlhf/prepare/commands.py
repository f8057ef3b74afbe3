"""``empathic prepare``: conversations -> training samples in ``<run>/prepare/`` (stage 1)."""

from __future__ import annotations

from ..stage_cli import add_stage_command
from .stage import STAGE


def add_commands(subparsers) -> None:
    add_stage_command(subparsers, STAGE, "Turn conversations into training samples (stage 1).",
                      sections=("prepare", "data", "model"))
