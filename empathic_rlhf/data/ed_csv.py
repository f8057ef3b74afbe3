"""Read the official EmpatheticDialogues release (``train.csv``, ``valid.csv``, ``test.csv``).

The files are not CSV-quoted: commas inside text are written ``_comma_`` and quotes are raw, so we parse them as
the authors' loader does -- one utterance per line, ``line.split(",")`` -- never with a quote-aware CSV reader
(which merges lines at stray quotes and silently loses rows).

Columns: conv_id, utterance_idx, context (the emotion), prompt (the situation), speaker_idx, utterance,
selfeval, tags, and in valid/test a 9th column of inline retrieval candidates.

Malformed lines, handled deliberately: a line with *more* fields than the header is read as the authors'
loader reads it (the first six fields; the extra ones were stray commas in the trailing columns) and counted in
``CsvReport.extra_field_lines``. A line with fewer than six fields has lost its utterance: that is an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import located
from ..io import text_lines
from .records import Conversation, Turn, role_of
from .validate import check_emotion, check_next_idx, check_text

HEADER = ["conv_id", "utterance_idx", "context", "prompt", "speaker_idx", "utterance", "selfeval", "tags"]


def unescape(text: str) -> str:
    """Undo the release's escaping of commas."""
    return text.replace("_comma_", ",")


@dataclass
class CsvReport:
    """What the reader met in one file, for ``data stats`` and logs."""

    path: str
    lines: int = 0
    extra_field_lines: list[int] = field(default_factory=list)


def read_conversations_csv(path: str | Path, split: str, report: CsvReport | None = None) -> Iterator[Conversation]:
    """Yield the conversations of one release CSV file, in file order."""
    path = Path(path)
    if not path.is_file():
        raise located(path, None, "file not found")
    report = report if report is not None else CsvReport(str(path))
    lines = text_lines(path)
    _, first = next(lines, (1, ""))
    header = first.rstrip("\r\n").split(",")
    if header[: len(HEADER)] != HEADER:
        raise located(path, 1, f"wrong columns {header!r}; expected {','.join(HEADER)}[,candidates]")
    width = len(header)
    current: dict | None = None
    for number, raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        report.lines += 1
        parts = line.split(",")
        if len(parts) < 6:
            raise located(path, number, f"expected {width} fields, got {len(parts)}: utterance missing")
        if len(parts) > max(width, 9):
            report.extra_field_lines.append(number)
        conv_id, idx_text, emotion, prompt, _speaker, text = parts[:6]
        try:
            idx = int(idx_text)
        except ValueError:
            raise located(path, number, f"utterance_idx must be an integer, got {idx_text!r}") from None
        # Every line repeats the conversation's emotion: check each one, not only the first.
        emotion = check_emotion(path, number, emotion, allow_missing=False)
        if current is None or current["conv_id"] != conv_id:
            if current is not None:
                yield _finish(current, split)
            current = {"conv_id": conv_id, "line": number, "turns": [], "prompt": unescape(prompt).strip(),
                       "emotion": emotion}
            previous = None
        else:
            previous = current["turns"][-1].idx
            if emotion != current["emotion"]:
                raise located(path, number, f"conversation {conv_id}: emotion {emotion!r} differs from "
                                            f"{current['emotion']!r} on line {current['line']}")
        check_next_idx(path, number, conv_id, previous, idx)
        current["turns"].append(Turn(idx, role_of(idx), check_text(path, number, unescape(text))))
    if current is not None:
        yield _finish(current, split)


def _finish(current: dict, split: str) -> Conversation:
    return Conversation(current["conv_id"], split, current["emotion"], current["prompt"], tuple(current["turns"]))
