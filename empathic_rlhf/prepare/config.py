"""Config of ``empathic prepare``: how conversations become training samples."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..data.config import KNOWLEDGE_FIELDS, SPLITS


@dataclass
class PrepareConfig:
    """How conversations become training samples (``empathic prepare``)."""

    splits: list[str] = field(default_factory=lambda: list(SPLITS), metadata={
        "help": "Splits to prepare."})
    max_history_turns: int = field(default=5, metadata={
        "help": "Previous turns kept as context, 1-5. Note the seed's own code kept 4 (a 5-utterance window)."})
    roles: list[str] = field(default_factory=lambda: ["listener"], metadata={
        "help": "Whose turns become replies: listener (the empathetic side; default) and/or speaker."})
    knowledge: list[str] = field(default_factory=list, metadata={
        "help": "Knowledge segment (system message) fields: emotion (ED's gold label), situation, and/or "
                "predicted_emotion (the emotion classifier's reading of the context: what a deployed model would "
                "have; docs/empathy.md). Empty: none, as the seed."})
    max_length: int = field(default=256, metadata={
        "help": "Token budget per sample (prompt + reply); oldest turns are dropped first, replies never cut."})
    max_conversations: dict[str, int] = field(default_factory=dict, metadata={
        "help": "Use only the first N conversations of a split, e.g. {train: 2000} (demo subsets). Empty: all."})

    def __post_init__(self):
        if not 1 <= self.max_history_turns <= 5:
            raise ValueError(f"max_history_turns must be 1-5, got {self.max_history_turns}")
        if not self.roles or set(self.roles) - {"speaker", "listener"}:
            raise ValueError(f"roles must be listener and/or speaker, got {self.roles}")
        if set(self.knowledge) - set(KNOWLEDGE_FIELDS):
            raise ValueError(f"knowledge fields must be among {list(KNOWLEDGE_FIELDS)}, got {self.knowledge}")
        if set(self.splits) - set(SPLITS):
            raise ValueError(f"splits must be among {list(SPLITS)}, got {self.splits}")
        if self.max_length < 16:
            raise ValueError(f"max_length must be at least 16 tokens, got {self.max_length}")
