"""``empathic sft``: fine-tune π on the prepared samples (``prepare`` runs first when it is not up to date)."""

from __future__ import annotations

from ..stage_cli import add_stage_command
from .stage import STAGE


def add_commands(subparsers) -> None:
    add_stage_command(subparsers, STAGE, "Fine-tune π on the prepared samples (TRL SFTTrainer, full or LoRA).")
