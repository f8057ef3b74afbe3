"""Shared fixtures: tiny models built locally, hand-made data, and the shared real data (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never touch the Hub

from helpers import FIREWORKS, DARKNESS, GPT2_TOKENIZER, write_jsonl  # noqa: E402


@pytest.fixture
def small_data_dir(tmp_path) -> Path:
    """A data folder in conversation-JSONL form: fireworks + darkness in train, one each in valid/test."""
    folder = tmp_path / "ed"
    write_jsonl(folder / "train.jsonl", [FIREWORKS, DARKNESS])
    write_jsonl(folder / "valid.jsonl", [{**DARKNESS, "conv_id": "hit:9_conv:9", "split": "valid"}])
    write_jsonl(folder / "test.jsonl", [{**FIREWORKS, "conv_id": "hit:8_conv:8", "split": "test"}])
    return folder


@pytest.fixture(scope="session")
def gpt2_tokenizer():
    """The real GPT-2 BPE with the seed format applied."""
    if not GPT2_TOKENIZER.exists():
        pytest.skip(f"GPT-2 tokenizer files not found at {GPT2_TOKENIZER} (CI has them)")
    from transformers import GPT2TokenizerFast

    from empathic_rlhf.models.dialogue_format import apply_format

    tokenizer = GPT2TokenizerFast.from_pretrained(str(GPT2_TOKENIZER))
    apply_format(tokenizer, requested="seed")
    return tokenizer


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory) -> Path:
    """A random 2-layer GPT-2 saved locally: with the real GPT-2 BPE when shared/ has it, else a local BPE."""
    from empathic_rlhf.models.embedded import build_tiny_gpt2

    out = tmp_path_factory.mktemp("tiny-gpt2")
    return build_tiny_gpt2(out, GPT2_TOKENIZER if GPT2_TOKENIZER.exists() else None)
