"""Fit samples into a token budget: drop whole oldest turns first, then the knowledge segment; never cut a reply.

A sample whose reply does not fit even with a single context turn is dropped whole and counted, never truncated.
"""

from __future__ import annotations

from collections import Counter


def rendered_lengths(tokenizer, conversations: list[list[dict]]) -> list[int]:
    """Token counts of each message list as the chat template renders it, tokenized in one fast batch."""
    texts = [tokenizer.apply_chat_template(messages, tokenize=False) for messages in conversations]
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def fit_samples(samples: list[dict], tokenizer, max_length: int) -> tuple[list[dict], Counter]:
    """Keep every sample within ``max_length`` tokens; returns the kept samples and counts of what was dropped."""
    counts: Counter = Counter()
    lengths = rendered_lengths(tokenizer, [s["prompt"] + s["completion"] for s in samples])
    kept = []
    for sample, length in zip(samples, lengths):
        fitted = sample if length <= max_length else _shorten(sample, tokenizer, max_length, counts)
        if fitted is not None:
            kept.append(fitted)
    return kept, counts


def _shorten(sample: dict, tokenizer, max_length: int, counts: Counter) -> dict | None:
    prompt, completion = list(sample["prompt"]), sample["completion"]
    has_system = bool(prompt) and prompt[0]["role"] == "system"
    while True:
        if len(prompt) - has_system > 1:
            del prompt[int(has_system)]  # the oldest turn
            counts["turns_dropped"] += 1
        elif has_system:
            del prompt[0]
            has_system = False
            counts["knowledge_dropped"] += 1
        else:
            counts["samples_dropped_reply_too_long"] += 1
            return None
        if rendered_lengths(tokenizer, [prompt + completion])[0] <= max_length:
            counts["samples_shortened"] += 1
            return {**sample, "prompt": prompt}
