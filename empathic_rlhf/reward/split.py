"""Held-out split by conversation, and the pairs of each side grouped by task."""

from __future__ import annotations

import hashlib
import random


def is_heldout(conv_id: str, fraction: float) -> bool:
    """Deterministic: a conversation is held out when its hash falls in the first ``fraction`` of the range."""
    value = int(hashlib.sha256(conv_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return value < fraction


def grouped_order(pairs: list[dict], epochs: float, seed: int) -> list[dict]:
    """Pairs for ``epochs`` passes, each pass shuffling tasks but keeping one task's pairs next to each other
    (so with sequential sampling they share a batch)."""
    by_task: dict[str, list[dict]] = {}
    for pair in pairs:
        by_task.setdefault(pair["task_id"], []).append(pair)
    rng = random.Random(seed)
    ordered: list[dict] = []
    passes = max(1, int(round(epochs))) if epochs >= 1 else 1
    for _ in range(passes):
        tasks = list(by_task)
        rng.shuffle(tasks)
        ordered.extend(pair for task in tasks for pair in by_task[task])
    if epochs < 1:
        ordered = ordered[: max(1, int(len(ordered) * epochs))]
    return ordered
