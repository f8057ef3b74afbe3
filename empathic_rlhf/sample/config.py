"""Config of ``empathic sample``: k candidate replies per held-out context, written as comparison tasks."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..generation.config import SamplingConfig


@dataclass
class SampleConfig(SamplingConfig):
    """Which contexts get candidates, how many, and from which model (``empathic sample``)."""

    k: int = field(default=3, metadata={
        "help": "Candidates per context, 2-4 (the gold reply counts as one when include_gold is set)."})
    include_gold: bool = field(default=False, metadata={
        "help": "Add the dataset's own reply as one candidate (source 'gold'), e.g. as a calibration anchor."})
    split: str = field(default="valid", metadata={"help": "Prepared split whose contexts get candidates."})
    samples_file: str | None = field(default=None, metadata={
        "help": "Any Sample JSONL file instead of the prepared split."})
    max_contexts: int | None = field(default=None, metadata={"help": "Use only the first N contexts; None: all."})
    model: str | None = field(default=None, metadata={
        "help": "Model to sample from: a folder, embedded name or Hub id. None: the run's π (sft/model)."})
    max_resample: int = field(default=3, metadata={
        "help": "Rounds of re-sampling for exact duplicate (or empty) candidates of the same context."})

    def __post_init__(self):
        super().__post_init__()
        if not 2 <= self.k <= 4:
            raise ValueError(f"k must be 2, 3 or 4, got {self.k}")
        if self.max_resample < 0:
            raise ValueError("max_resample must be >= 0")
