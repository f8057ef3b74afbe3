"""``empathic prepare``: conversations -> samples per split, as a ``datasets`` dataset and readable JSONL.

Writes ``<run>/prepare/{split}.jsonl``, ``<run>/prepare/{split}/`` (``Dataset.save_to_disk``, the form TRL's
``SFTTrainer`` takes) and ``<run>/prepare/stats.json``. The folder is written beside and renamed into place, so an
interrupted prepare leaves nothing half-written.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from ..errors import EmpathicError
from ..io import atomic_path
from ..data.budget import fit_samples
from ..data.config import DataConfig
from ..data.samples import samples_from_conversation
from ..data.sources import resolve
from .config import PrepareConfig


def build_split_samples(conversations, config: PrepareConfig, tokenizer) -> tuple[list[dict], dict]:
    """Samples of one split within the token budget, and the counts of what was made and dropped."""
    samples = [
        sample
        for conversation in conversations
        for sample in samples_from_conversation(conversation, max_history_turns=config.max_history_turns,
                                                roles=config.roles, knowledge=config.knowledge)
    ]
    kept, dropped = fit_samples(samples, tokenizer, config.max_length) if samples else ([], {})
    history = Counter(sum(m["role"] != "system" for m in s["prompt"]) for s in kept)
    counts = {"conversations": len(conversations), "candidates": len(samples), "samples": len(kept),
              "history_turns": {str(k): history[k] for k in sorted(history)}, **dropped}
    return kept, counts


def read_splits(data: DataConfig, config: PrepareConfig) -> dict[str, list]:
    """The conversations of every configured split (the first ``max_conversations`` of each), read and checked: bad
    data fails here, within a second or two, before a tokenizer (and torch) loads."""
    source = resolve(data.data_dir)
    splits = {}
    for split in config.splits:
        conversations = source.read(split)
        limit = config.max_conversations.get(split)
        splits[split] = conversations[:limit] if limit else conversations
        if not splits[split]:
            raise EmpathicError(f"{source.file(split)}: no conversations in the {split} split")
    return splits


def prepare(data: DataConfig, config: PrepareConfig, tokenizer, out_dir: Path,
            splits: dict[str, list] | None = None) -> dict:
    """Write the samples of every configured split into ``out_dir``; returns the stats (also in stats.json).
    ``splits``: the conversations :func:`read_splits` read (read here when None)."""
    from datasets import Dataset

    source = resolve(data.data_dir)
    splits = read_splits(data, config) if splits is None else splits
    stats = {"source": str(source.folder), "format": source.kind, "splits": {}}
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        for split in tqdm(config.splits, desc="prepare", unit="split"):
            conversations = splits[split]
            samples, counts = build_split_samples(conversations, config, tokenizer)
            if not samples:
                raise EmpathicError(f"{source.file(split)}: {_no_samples_message(split, config, counts)}")
            stats["splits"][split] = counts
            with open(tmp / f"{split}.jsonl", "w", encoding="utf-8") as f:
                f.writelines(json.dumps(s, ensure_ascii=False) + "\n" for s in samples)
            Dataset.from_list(samples).save_to_disk(str(tmp / split))
        (tmp / "stats.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    return stats


def _no_samples_message(split: str, config: PrepareConfig, counts: dict) -> str:
    """Why a split gave no samples: no reply turn of the chosen roles, or every reply over the token budget."""
    too_long = counts.get("samples_dropped_reply_too_long", 0)
    why = (f"all {too_long} replies are longer than prepare.max_length={config.max_length} tokens" if too_long
           else f"no turn of prepare.roles={config.roles} follows another turn")
    return f"the {split} split gives no samples from its {counts['conversations']} conversation(s): {why}"


def format_stats(stats: dict) -> str:
    """A small table of sample counts per split."""
    rows = ["| split | conversations | samples | turns dropped | samples dropped |", "|---|---:|---:|---:|---:|"]
    for split, c in stats["splits"].items():
        rows.append(f"| {split} | {c['conversations']:,} | {c['samples']:,} | {c.get('turns_dropped', 0):,} "
                    f"| {c.get('samples_dropped_reply_too_long', 0):,} |")
    return "\n".join(rows)
