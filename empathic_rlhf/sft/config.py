"""Config of ``empathic sft``: supervised fine-tuning of the policy π on the prepared samples (TRL SFTTrainer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import trainer_args_field


@dataclass
class SftConfig:
    """How π is fine-tuned. Loss falls on reply tokens only (TRL's completion-only loss on prompt/completion rows)."""

    method: str = field(default="full", metadata={
        "help": "full: update every weight. lora: train low-rank adapters (PEFT), merged into the saved model."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling alpha."})
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA branch."})
    lora_target_modules: str = field(default="all-linear", metadata={
        "help": "Modules that get adapters: 'all-linear' or a comma-separated list of module names."})
    train_split: str = field(default="train", metadata={"help": "Prepared split to train on."})
    eval_split: str = field(default="valid", metadata={"help": "Prepared split for validation perplexity."})
    max_train_samples: int | None = field(default=None, metadata={
        "help": "Train on a random subset of this many samples (seeded); None: all."})
    max_eval_samples: int | None = field(default=None, metadata={
        "help": "Validate on the first N samples of the eval split; None: all."})
    max_length: int = field(default=256, metadata={
        "help": "Truncate rows to this many tokens (prepare already fits samples into its own budget)."})
    per_device_train_batch_size: int = field(default=8, metadata={"help": "Rows per training micro-batch."})
    per_device_eval_batch_size: int = field(default=16, metadata={"help": "Rows per validation batch."})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "Micro-batches per optimizer step."})
    learning_rate: float = field(default=6.25e-5, metadata={
        "help": "Peak learning rate (TransferTransfo used 6.25e-5 for full fine-tuning; LoRA wants ~2e-4)."})
    lr_scheduler_type: str = field(default="linear", metadata={
        "help": "transformers scheduler name: linear, cosine, constant, constant_with_warmup, ..."})
    warmup_steps: float = field(default=0.0, metadata={
        "help": "Warm-up: a number of steps, or a fraction of the training steps when below 1."})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay."})
    num_train_epochs: float = field(default=1.0, metadata={"help": "Epochs over the training split."})
    max_steps: int = field(default=-1, metadata={"help": "Optimizer steps; overrides num_train_epochs when > 0."})
    eval_steps: int = field(default=200, metadata={
        "help": "Validate (reply perplexity) and checkpoint every N steps; the best checkpoint is kept and saved."})
    eval_on_start: bool = field(default=True, metadata={
        "help": "Validate once before training, so the before/after perplexity is on record."})
    logging_steps: int = field(default=10, metadata={"help": "Log loss and tokens/s every N steps."})
    save_total_limit: int = field(default=2, metadata={
        "help": "Checkpoints kept on disk (the best one is always kept besides the latest)."})
    report_to: list[str] = field(default_factory=list, metadata={
        "help": "Loggers: tensorboard and/or wandb (their package must be installed). Empty: none."})
    trainer_args: dict[str, Any] = trainer_args_field("sft", "SFTConfig")

    def __post_init__(self):
        if self.method not in ("full", "lora"):
            raise ValueError(f"method must be full or lora, got {self.method!r}")
        if self.max_steps <= 0 and self.num_train_epochs <= 0:
            raise ValueError("set max_steps > 0 or num_train_epochs > 0")
        if self.eval_steps < 1 or self.logging_steps < 1:
            raise ValueError("eval_steps and logging_steps must be at least 1")
        if set(self.report_to) - {"tensorboard", "wandb"}:
            raise ValueError(f"report_to must list tensorboard and/or wandb, got {self.report_to}")
