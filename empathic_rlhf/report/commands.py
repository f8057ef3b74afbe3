"""``empathic report``: (re)build ``<run>/report.html`` from the run directory."""

from __future__ import annotations

from ..stage_cli import add_stage_command
from .stage import STAGE


def add_commands(subparsers) -> None:
    add_stage_command(subparsers, STAGE, "Build the self-contained HTML report of a run (<run>/report.html).",
                      sections=())
