"""Config of the reward-model stage (``empathic reward train``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import trainer_args_field


@dataclass
class RewardConfig:
    """Train a scalar reward model on best-of-k labels, initialised from π."""

    labels: str = field(default="auto", metadata={
        "help": "Label source: auto (human labels if <run>/label/labels.jsonl exists, else `bootstrap`), human, "
                "simulated (the simulated annotators' labels in <run>/label/labels.jsonl: `empathic label "
                "simulate`, for dry runs), gold-vs-policy, or synthetic:<scorer> (e.g. synthetic:static: one "
                "noiseless label per task)."})
    bootstrap: str = field(default="gold-vs-policy", metadata={
        "help": "Source used by `labels: auto` when there are no human labels."})
    heldout_fraction: float = field(default=0.2, metadata={
        "help": "Share of conversations held out for evaluation (split by conversation: a context is never in "
                "both train and test)."})
    backbone: str = field(default="policy", metadata={
        "help": "policy (π's weights + a scalar head, as Ziegler et al.) or minilm (the shipped all-MiniLM-L6-v2 "
                "encoder as a cross-encoder: ~15x less compute per token than SmolLM2-135M, so thousands of pairs "
                "train in minutes on a CPU)."})
    method: str = field(default="full", metadata={
        "help": "full (every weight) or lora (LoRA adapters on the backbone + the scalar head; ~2x faster on "
                "CPU, merged into a plain model when saved)."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank (method: lora)."})
    learning_rate: float = field(default=1e-5, metadata={"help": "Peak learning rate (linear decay)."})
    epochs: float = field(default=1.0, metadata={"help": "Passes over the training pairs."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after this many optimizer steps (-1: use epochs)."})
    batch_size: int = field(default=8, metadata={
        "help": "Pairs per step; a multiple of k-1 keeps all pairs of one task in one batch."})
    max_length: int = field(default=256, metadata={"help": "Pairs with a longer side are left out (counted)."})
    normalize: bool = field(default=True, metadata={
        "help": "Fit gain and bias so π's samples on held-out contexts score mean 0, std 1 (Ziegler et al.)."})
    empathy_probe: int = field(default=600, metadata={
        "help": "Measure whether the reward tracks empathy, not only the style of human replies: Spearman of the "
                "reward with EPITOME's human levels on this many EPITOME test pairs, and with the empathy "
                "classifiers on π's held-out replies (reward/probe.py). 0: skip."})
    max_tasks: int | None = field(default=None, metadata={"help": "Use at most this many tasks (demo subsets)."})
    hard_negatives: int = field(default=0, metadata={
        "help": "Prepared train contexts turned into hard-negative pairs (the human reply beats a stock phrase, "
                "another conversation's reply, the speaker parroted, ...: source synthetic-negative:<kind>, "
                "reward/negatives.py), added to the training pairs only; 0: none. Teaches the reward model that a "
                "reply must answer this conversation, which gold-vs-policy pairs alone do not."})
    replay_negatives: bool = field(default=True, metadata={
        "help": "Later rounds (docs/rounds.md): train on the hard negatives again beside the labels so far. Without "
                "them the warm-started model unlearns what they taught: on the simulated evening (605 judge labels) "
                "the human reply's win rate against stock phrases fell from 0.63 to 0.43; with them it rose to 0.72 "
                "(docs/evening.md)."})
    battery: int = field(default=300, metadata={
        "help": "Prepared test contexts of the robustness battery run on the trained reward model (gold vs stock "
                "phrases, another conversation's reply, ...; stored as battery in metrics.json); 0: skip."})
    init_model: str | None = field(default=None, metadata={
        "help": "Warm start: a reward model folder (one `empathic reward train` wrote) whose weights and scalar head "
                "training starts from, instead of a new head on the backbone. Rounds set it to the previous round's "
                "reward model (pipeline/rounds.py)."})
    trainer_args: dict[str, Any] = trainer_args_field("reward", "RewardConfig")

    def __post_init__(self):
        if self.hard_negatives < 0 or self.battery < 0:
            raise ValueError(f"hard_negatives and battery must be >= 0, got {self.hard_negatives}, {self.battery}")
        if not 0.0 < self.heldout_fraction < 1.0:
            raise ValueError(f"heldout_fraction must be in (0, 1), got {self.heldout_fraction}")
        allowed = ("auto", "human", "simulated", "gold-vs-policy")
        if self.labels not in allowed and not self.labels.startswith("synthetic:"):
            raise ValueError(f"labels must be auto, human, simulated, gold-vs-policy or synthetic:<scorer>, "
                             f"got {self.labels!r}")
        if self.backbone not in ("policy", "minilm"):
            raise ValueError(f"backbone must be policy or minilm, got {self.backbone!r}")
        if self.method not in ("full", "lora"):
            raise ValueError(f"method must be full or lora, got {self.method!r}")
        if self.bootstrap not in ("gold-vs-policy",) and not self.bootstrap.startswith("synthetic:"):
            raise ValueError(f"bootstrap must be gold-vs-policy or synthetic:<scorer>, got {self.bootstrap!r}")
