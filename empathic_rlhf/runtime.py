"""Process settings that must be in place before torch loads."""

from __future__ import annotations

import os


def configure_cpu_runtime() -> None:
    """Keep OpenMP threads from busy-waiting (on a 2-core machine a spinning idle thread slows a run ~20x) and
    keep tokenizers from forking thread pools. Call before importing torch; explicit user settings win."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    quiet_known_warnings()


# Warnings the libraries raise about their own code, which a user can do nothing about: each silenced by its category
# and message, nothing broader (a new warning still shows).
KNOWN_WARNINGS = (
    # peft 0.21 (get_peft_model) and TRL 1.16 use transformers 5's deprecated aliases of is_activation_checkpointing
    # and (with <section>.trainer_args.gradient_checkpointing on) of activation_checkpointing_enable
    (FutureWarning, r"`is_gradient_checkpointing` is deprecated and will be removed in v6"),
    (FutureWarning, r"`gradient_checkpointing_enable` is deprecated and will be removed in v6"),
    (FutureWarning, r"`gradient_checkpointing_disable` is deprecated and will be removed in v6"),
)


def quiet_known_warnings() -> None:
    import warnings

    for category, message in KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)


def device_training_args() -> dict:
    """The hardware part of every stage's TRL config (SFT, reward, RL, DPO), decided by one rule.

    - bf16 only on a GPU that supports it (``torch.cuda.is_bf16_supported()``): on CPU bf16 matmuls are ~100x
      slower, and an older GPU (V100, T4) has no bf16 at all; fp32 elsewhere.
    - activation (gradient) checkpointing off: at the model sizes this toolkit trains on one device it only costs
      time (``<section>.trainer_args: {gradient_checkpointing: true}`` turns it on). Set explicitly, under
      transformers 5's name: TRL's configs default ``gradient_checkpointing`` (its deprecated alias) to on.
    - ``use_cpu`` where no GPU is present; no dataloader worker processes (tokenised rows are in memory already).
    """
    import torch

    return {"bf16": use_bf16(), "use_cpu": not torch.cuda.is_available(), "dataloader_num_workers": 0,
            "activation_checkpointing": False}


# transformers 5 renamed these TrainingArguments; the old names still work but warn (FutureWarning), so a
# trainer_args key under the old name is passed under the new one.
RENAMED_ARGUMENTS = {"gradient_checkpointing": "activation_checkpointing",
                     "gradient_checkpointing_kwargs": "activation_checkpointing_kwargs"}


def trl_arguments(cls, section: str, ours: dict, extra: dict):
    """``cls`` (a TRL config class, e.g. ``SFTConfig``) built from what the stage sets (``ours``: what it maps from
    its section, and ``**device_training_args()``) and the section's ``trainer_args`` (``extra``), which may
    override the device defaults but nothing else the stage sets. An unknown or taken name is an error naming it."""
    import dataclasses

    from .errors import EmpathicError

    known, device = {f.name for f in dataclasses.fields(cls)}, set(device_training_args())
    extra = {RENAMED_ARGUMENTS[key] if RENAMED_ARGUMENTS.get(key) in known else key: value
             for key, value in extra.items()}
    for key in extra:
        if key not in known:
            raise EmpathicError(f"{section}.trainer_args: {cls.__name__} has no argument {key!r}")
        if key in ours and key not in device:
            raise EmpathicError(f"{section}.trainer_args: {key!r} is set by the {section} stage itself (from its own "
                                f"config fields, see `empathic --help` under [{section}]); set that instead")
    return cls(**{**ours, **extra})


def use_bf16() -> bool:
    """The one bf16 rule, for training and inference alike: a CUDA GPU that supports bf16 (Ampere or newer)."""
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def inference_placement() -> tuple[str, str]:
    """(device, dtype name) a model generates and scores on: the GPU when there is one, in bf16 by
    :func:`use_bf16`'s rule, else fp32 (never fp16: GPT-2's activations overflow it); the CPU in fp32."""
    import torch

    if not torch.cuda.is_available():
        return "cpu", "float32"
    return "cuda", "bfloat16" if use_bf16() else "float32"


def place_for_inference(model):
    """Move ``model`` to :func:`inference_placement`'s device and dtype (a no-op on CPU); returns it."""
    import torch

    device, dtype = inference_placement()
    if device == "cpu":
        return model
    return model.to(device=device, dtype=getattr(torch, dtype))
