"""Process settings that must be in place before torch loads."""

from __future__ import annotations

import os


def configure_cpu_runtime() -> None:
    """Keep OpenMP threads from busy-waiting (on a 2-core machine a spinning idle thread slows a run ~20x) and
    keep tokenizers from forking thread pools. Call before importing torch; explicit user settings win."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def device_training_args() -> dict:
    """The hardware part of every stage's TRL config (SFT, reward, RL, DPO), decided by one rule.

    - bf16 only on a GPU that supports it (``torch.cuda.is_bf16_supported()``): on CPU bf16 matmuls are ~100x
      slower, and an older GPU (V100, T4) has no bf16 at all; fp32 elsewhere.
    - activation (gradient) checkpointing stays off, the trainers' default: at the model sizes this toolkit trains
      on one device it only costs time.
    - ``use_cpu`` where no GPU is present; no dataloader worker processes (tokenised rows are in memory already).
    """
    import torch

    cuda = torch.cuda.is_available()
    return {"bf16": cuda and torch.cuda.is_bf16_supported(), "use_cpu": not cuda, "dataloader_num_workers": 0}
