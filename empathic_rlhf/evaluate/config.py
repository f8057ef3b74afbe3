"""Config of ``empathic evaluate``: automatic metrics of several models on the test split, side by side."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..sample.config import SamplingConfig


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
