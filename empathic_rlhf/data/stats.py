"""``empathic data stats``: what a data directory holds, per split."""

from __future__ import annotations

from collections import Counter

from .ed_csv import CsvReport
from .sources import DataSource


def split_stats(source: DataSource, split: str, max_history_turns: int = 5) -> dict:
    """Conversations, turns, replies, emotion histogram and history-length histogram of one split."""
    report = CsvReport(str(source.file(split)))
    conversations = source.read(split, report)
    roles = Counter(turn.role for c in conversations for turn in c.turns)
    emotions = Counter(c.emotion or "(none)" for c in conversations)
    # History available to each reply (a turn with at least one turn before it), capped at max_history_turns.
    history = Counter(min(i, max_history_turns) for c in conversations for i in range(1, len(c.turns)))
    stats = {
        "conversations": len(conversations),
        "turns": sum(roles.values()),
        "speaker_turns": roles["speaker"],
        "listener_turns": roles["listener"],
        "replies_listener": sum(1 for c in conversations for t in c.turns[1:] if t.role == "listener"),
        "replies_both_roles": sum(max(0, len(c.turns) - 1) for c in conversations),
        "emotions": dict(sorted(emotions.items())),
        "history_turns": {str(k): history[k] for k in sorted(history)},
    }
    if source.kind == "csv":
        stats["malformed_lines_extra_fields"] = len(report.extra_field_lines)
    return stats


def format_split_stats(split: str, s: dict) -> str:
    lines = [f"## {split}: {s['conversations']:,} conversations, {s['turns']:,} turns "
             f"({s['speaker_turns']:,} speaker, {s['listener_turns']:,} listener); replies: "
             f"{s['replies_listener']:,} listener-only, {s['replies_both_roles']:,} both roles"]
    if "malformed_lines_extra_fields" in s:
        lines.append(f"malformed lines (extra fields, read as the authors' loader does): "
                     f"{s['malformed_lines_extra_fields']}")
    lines.append("history turns: " + ", ".join(f"{k}: {v:,}" for k, v in s["history_turns"].items()))
    top = sorted(s["emotions"].items(), key=lambda kv: -kv[1])
    lines.append("emotions: " + ", ".join(f"{k} {v}" for k, v in top))
    return "\n".join(lines)
