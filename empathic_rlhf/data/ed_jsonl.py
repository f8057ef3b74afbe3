"""Read conversation JSONL: one conversation per line, as in ``shared/data/empatheticdialogues/reconstructed``.

Record: ``{conv_id, split, emotion, prompt, utterances: [{utterance_idx, role, text}]}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import located
from ..io import read_jsonl
from .records import Conversation, Turn, role_of
from .validate import check_emotion, check_next_idx, check_optional_text, check_text

REQUIRED = ("conv_id", "emotion", "prompt", "utterances")


def read_conversations_jsonl(path: str | Path, split: str) -> Iterator[Conversation]:
    """Yield the conversations of one JSONL file; any bad record raises an error naming file and line."""
    path = Path(path)
    seen: set[str] = set()
    for line, record in read_jsonl(path):
        missing = [key for key in REQUIRED if key not in record]
        if missing:
            raise located(path, line, f"missing field(s) {', '.join(missing)}")
        conv_id = str(record["conv_id"])
        if conv_id in seen:
            raise located(path, line, f"duplicate conversation {conv_id}")
        seen.add(conv_id)
        yield Conversation(
            conv_id=conv_id,
            split=record.get("split") or split,
            emotion=check_emotion(path, line, record["emotion"], allow_missing=True),
            situation=check_optional_text(path, line, record["prompt"], "field 'prompt' (the situation)"),
            turns=_turns(path, line, conv_id, record["utterances"]),
        )


def _turns(path: Path, line: int, conv_id: str, utterances) -> tuple[Turn, ...]:
    if not isinstance(utterances, list) or not utterances:
        raise located(path, line, f"conversation {conv_id}: 'utterances' must be a non-empty list")
    turns, previous = [], None
    for utterance in utterances:
        if not isinstance(utterance, dict):
            raise located(path, line, f"conversation {conv_id}: each utterance must be an object")
        idx = utterance.get("utterance_idx", (previous or 0) + 1)
        if not isinstance(idx, int):
            raise located(path, line, f"conversation {conv_id}: utterance_idx must be an integer, got {idx!r}")
        check_next_idx(path, line, conv_id, previous, idx)
        role = utterance.get("role", role_of(idx))
        if role != role_of(idx):
            raise located(path, line, f"conversation {conv_id}: utterance {idx} has role {role!r}, expected "
                                      f"{role_of(idx)!r} (odd indices are the speaker's)")
        turns.append(Turn(idx, role, check_text(path, line, utterance.get("text"),
                                                f"utterance (conversation {conv_id}, utterance_idx {idx})")))
        previous = idx
    return tuple(turns)
