"""Read ``empathic reward score`` requests: one JSON object per line with a context and a reply."""

from __future__ import annotations

from ..errors import located
from ..io import read_jsonl
from ..records import alternating_prompt


def to_prompt(path, line: int, record: dict) -> list[dict]:
    """Accept ``prompt`` (chat messages), ``history`` (strings, oldest first, alternating with the replying side
    last to answer) or ``context`` (one string)."""
    if isinstance(record.get("prompt"), list):
        return record["prompt"]
    history = record.get("history")
    if history is None and isinstance(record.get("context"), str):
        history = [record["context"]]
    if not isinstance(history, list) or not history:
        raise located(path, line, "needs 'prompt' (messages), 'history' (list of turns) or 'context' (text)")
    return alternating_prompt([h["text"] if isinstance(h, dict) else str(h) for h in history])


def read_score_requests(source: str) -> list[dict]:
    """Requests from a JSONL file, or ``-`` for standard input."""
    name = "<stdin>" if source == "-" else source
    requests = []
    for line, record in read_jsonl(source):
        if not isinstance(record.get("reply"), str):
            raise located(name, line, "each line needs a string 'reply'")
        requests.append({"record": record, "prompt": to_prompt(name, line, record), "reply": record["reply"]})
    return requests
