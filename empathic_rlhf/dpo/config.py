"""Config of DPO (``empathic dpo``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import trainer_args_field


@dataclass
class DpoConfig:
    """Direct preference optimisation from the same pairwise labels the reward model learns from."""

    beta: float = field(default=0.1, metadata={
        "help": "Strength of the implicit KL to π (higher: stay closer to π)."})
    learning_rate: float = field(default=5e-6, metadata={"help": "Peak learning rate."})
    epochs: float = field(default=1.0, metadata={"help": "Passes over the training pairs."})
    max_steps: int = field(default=-1, metadata={"help": "Optimizer steps (-1: use epochs)."})
    batch_size: int = field(default=8, metadata={"help": "Pairs per step."})
    max_length: int = field(default=256, metadata={"help": "Longest prompt + reply, in tokens."})
    report_to: list[str] = field(default_factory=list, metadata={"help": "tensorboard and/or wandb."})
    trainer_args: dict[str, Any] = trainer_args_field("dpo", "DPOConfig")

    def __post_init__(self):
        if self.beta <= 0:
            raise ValueError(f"beta must be > 0, got {self.beta}")
