"""Config of the base model every stage starts from (the ``model`` section of a run). A leaf module, like every
stage's ``config.py``: resolving a run's config never imports model-loading code."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ModelConfig:
    """Which base model every stage starts from, and how dialogues are rendered for it."""

    base_model: str = field(default="smollm2-135m", metadata={
        "help": "Embedded name (smollm2-135m, tiny-gpt2), a local Hugging Face folder, or a Hub id (gpt2, ...)."})
    dialogue_format: str = field(default="auto", metadata={
        "help": "auto (the model's chat template if it has one, else seed), seed (turn <SOC> turn <SOC> reply "
                "<EOT>, special tokens added), or chat-template."})

    def __post_init__(self):
        if self.dialogue_format not in ("auto", "seed", "chat-template"):
            raise ValueError(f"dialogue_format must be auto, seed or chat-template, got {self.dialogue_format!r}")
