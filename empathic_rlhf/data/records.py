"""The conversation record every reader produces and every later stage consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["speaker", "listener"]

# The 32 emotion labels of EmpatheticDialogues (Rashkin et al. 2019), in alphabetical order.
EMOTIONS: tuple[str, ...] = (
    "afraid", "angry", "annoyed", "anticipating", "anxious", "apprehensive", "ashamed", "caring",
    "confident", "content", "devastated", "disappointed", "disgusted", "embarrassed", "excited", "faithful",
    "furious", "grateful", "guilty", "hopeful", "impressed", "jealous", "joyful", "lonely",
    "nostalgic", "prepared", "proud", "sad", "sentimental", "surprised", "terrified", "trusting",
)


@dataclass(frozen=True)
class Turn:
    """One utterance. ``speaker`` told the story (odd utterance_idx), ``listener`` answered it (even)."""

    idx: int
    role: Role
    text: str


@dataclass(frozen=True)
class Conversation:
    """One EmpatheticDialogues conversation: emotion label, situation prompt and ordered turns.

    ``emotion`` is ``None`` only where the source lacks it (one test conversation of the rebuilt release).
    """

    conv_id: str
    split: str
    emotion: str | None
    situation: str
    turns: tuple[Turn, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        """The conversation JSONL form (the format of ``shared/data/empatheticdialogues/reconstructed``)."""
        return {
            "conv_id": self.conv_id,
            "split": self.split,
            "emotion": self.emotion,
            "prompt": self.situation,
            "utterances": [{"utterance_idx": t.idx, "role": t.role, "text": t.text} for t in self.turns],
        }


def role_of(utterance_idx: int) -> Role:
    """ED alternates roles: odd utterance_idx is the speaker (who tells the situation), even the listener."""
    return "speaker" if utterance_idx % 2 == 1 else "listener"
