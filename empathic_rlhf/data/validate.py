"""Checks shared by every reader, so the CSV and JSONL paths reject the same bad input the same way."""

from __future__ import annotations

from .records import EMOTIONS
from ..errors import located


def check_emotion(path, line: int, emotion, *, allow_missing: bool) -> str | None:
    """Return a valid emotion label (or None where allowed); anything else is an error naming file and line."""
    if emotion in (None, ""):
        if allow_missing:
            return None
        raise located(path, line, "missing emotion label")
    if emotion not in EMOTIONS:
        raise located(path, line, f"unknown emotion {emotion!r} (expected one of the 32 ED labels)")
    return emotion


def check_text(path, line: int, text, what: str = "utterance") -> str:
    """Return stripped non-empty text or raise an error naming file and line."""
    if text is not None and not isinstance(text, str):
        raise located(path, line, f"{what} must be text, got {type(text).__name__} {text!r}")
    if text is None or not text.strip():
        raise located(path, line, f"empty {what}")
    return text.strip()


def check_optional_text(path, line: int, text, what: str) -> str:
    """Return stripped text of an optional field (None or missing: ``""``); a non-string is an error."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise located(path, line, f"{what} must be text, got {type(text).__name__} {text!r}")
    return text.strip()


def check_next_idx(path, line: int, conv_id: str, previous: int | None, idx: int) -> None:
    """Utterance indices of one conversation must run 1, 2, 3, ... without gaps or repeats."""
    expected = 1 if previous is None else previous + 1
    if idx != expected:
        raise located(path, line, f"conversation {conv_id}: utterance_idx {idx} out of order (expected {expected})")
