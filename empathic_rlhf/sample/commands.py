"""``empathic sample``: k candidate replies per held-out context -> comparison tasks for the labelling app."""

from __future__ import annotations

from ..stage_cli import add_stage_command
from .stage import STAGE


def add_commands(subparsers) -> None:
    add_stage_command(subparsers, STAGE, "Sample k candidate replies per held-out context (comparison tasks for labelling).")
