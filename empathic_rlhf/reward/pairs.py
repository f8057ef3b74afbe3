"""Labels -> preference pairs, split by conversation, written once for the reward model and DPO.

The conversion itself is :func:`empathic_rlhf.records.pairs_from_label` (the one converter). Here the pairs are
split so that a conversation is never on both sides (``heldout_fraction`` of conversations, by a stable hash), and
written to ``<run>/reward/pairs/{train,heldout}.jsonl``: the reward model trains and is measured on them, and DPO
reads the very same files, so its held-out pairs are the reward model's.

Why pairs rather than lm-human-preferences' softmax over the k candidates: TRL's reward trainer (the field's
maintained trainer) takes pairs, and "best beats each other candidate" is the Bradley-Terry reading of a best-of-k
choice, as InstructGPT does with rankings. For k = 2 the two losses are identical; for k > 2 the k-1 pairs of one
task share the chosen reply, so :func:`grouped_order` keeps them next to each other so they land in one batch, as
InstructGPT recommends, instead of letting one judgement be seen k-1 times in separate steps.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from ..records import Label, Pair, Task, pairs_from_label, read_records, write_records
from ..splits import in_fraction

SPLITS = ("train", "heldout")


def split_key(task: Task) -> str:
    """What a split keeps together: the conversation (a live chat, which has none, is its own unit)."""
    return task.conv_id or task.task_id


def build_pairs(tasks: list[Task], labels: list[Label], heldout_fraction: float
                ) -> tuple[dict[str, list[Pair]], Counter]:
    """``{"train": [...], "heldout": [...]}`` from every label whose task is known, and the outcome counts."""
    by_id = {t.task_id: t for t in tasks}
    counts: Counter = Counter()
    pairs: dict[str, list[Pair]] = {split: [] for split in SPLITS}
    for label in labels:
        task = by_id.get(label.task_id)
        if task is None:
            counts["labels_without_task"] += 1
            continue
        side = "heldout" if in_fraction(split_key(task), heldout_fraction) else "train"
        pairs[side].extend(pairs_from_label(task, label, counts))
    return pairs, counts


def pairs_dir(run) -> Path:
    return run.stage_dir("reward") / "pairs"


def write_pairs(out_dir: Path, pairs: dict[str, list[Pair]]) -> None:
    for split in SPLITS:
        write_records(Path(out_dir) / f"{split}.jsonl", pairs[split])


def read_pairs(out_dir: Path) -> dict[str, list[Pair]]:
    return {split: read_records(Path(out_dir) / f"{split}.jsonl", Pair) for split in SPLITS}


def grouped_order(pairs: list[Pair], epochs: float, seed: int) -> list[Pair]:
    """Pairs for ``epochs`` passes, each pass shuffling tasks but keeping one task's pairs next to each other
    (so with sequential sampling they share a batch)."""
    by_task: dict[str, list[Pair]] = {}
    for pair in pairs:
        by_task.setdefault(pair.task_id, []).append(pair)
    rng = random.Random(seed)
    ordered: list[Pair] = []
    passes = max(1, int(round(epochs))) if epochs >= 1 else 1
    for _ in range(passes):
        tasks = list(by_task)
        rng.shuffle(tasks)
        ordered.extend(pair for task in tasks for pair in by_task[task])
    if epochs < 1:
        ordered = ordered[: max(1, int(len(ordered) * epochs))]
    return ordered
