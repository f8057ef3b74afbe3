"""Config of ``empathic evaluate``: automatic metrics of several models on the test split, side by side."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..generation.config import SamplingConfig


@dataclass
class EvaluateConfig(SamplingConfig):
    """What is evaluated and how its replies are generated (sampling fields as in ``sample``; greedy by default)."""

    temperature: float = field(default=0.0, metadata={
        "help": "Decoding temperature for the generated replies; 0: greedy (deterministic BLEU)."})
    models: list[str] = field(default_factory=lambda: ["base", "sft", "rl", "dpo"], metadata={
        "help": "Models side by side: 'base' (the run's base model), 'sft' (π), 'rl', 'dpo' (the run's policies; "
                "left out until their stage has run), or any folder, embedded name or Hub id; name=path names a "
                "column."})
    split: str = field(default="test", metadata={"help": "Prepared split to evaluate on."})
    max_samples: int | None = field(default=None, metadata={
        "help": "Evaluate on the first N samples only (perplexity and generation); None: all."})
    eval_batch_size: int = field(default=16, metadata={"help": "Rows per perplexity batch."})
    replies_per_context: int = field(default=1, metadata={
        "help": "Replies generated per context and model (a fixed seed); each context's metrics average them. "
                "More replies shrink the noise of sampled decoding; with greedy decoding (temperature 0) keep 1."})
    baseline: str = field(default="sft", metadata={
        "help": "The model every other one is compared with, paired on the same contexts (π by default)."})
    bootstrap_resamples: int = field(default=1000, metadata={
        "help": "Bootstrap resamples of the contexts for the 95% intervals and corpus-metric p-values."})
    empathy: str = field(default="auto", metadata={
        "help": "Empathy yardstick columns (ER/IP/EX, emotion fit): build (building the classifiers first if "
                "needed), auto (when already built by `empathic empathy build`), skip."})
    judge: str = field(default="auto", metadata={
        "help": "The judge's columns (judged_empathy, the headline that reads the conversation, and context_fit): "
                "auto (when built by `empathic judge build`, ~30 minutes once per machine), skip."})
    battery: int = field(default=300, metadata={
        "help": "Contexts of the robustness battery (gold vs stock phrases, another conversation's reply, "
                "parroting, ...) run on every scorer column and stored in table.json; 0: skip."})

    def __post_init__(self):
        super().__post_init__()
        if self.replies_per_context < 1:
            raise ValueError(f"replies_per_context must be >= 1, got {self.replies_per_context}")
        if self.empathy not in ("build", "auto", "skip"):
            raise ValueError(f"empathy must be build, auto or skip, got {self.empathy!r}")
        if self.judge not in ("auto", "skip"):
            raise ValueError(f"judge must be auto or skip, got {self.judge!r}")
        if self.battery < 0:
            raise ValueError(f"battery must be >= 0, got {self.battery}")
        if self.bootstrap_resamples < 100:
            raise ValueError(f"bootstrap_resamples must be >= 100, got {self.bootstrap_resamples}")
