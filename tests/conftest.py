"""Shared fixtures: tiny models built locally, hand-made data, and the shared real data (skipped when absent)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never touch the Hub

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("EMPATHIC_SHARED_DATA", REPO.parent / "shared" / "data"))
ED_RECONSTRUCTED = SHARED_DATA / "empatheticdialogues" / "reconstructed"
GPT2_TOKENIZER = SHARED_DATA / "gpt2-tokenizer"

# The seed's worked example (hit:0_conv:1), as the rebuilt JSONL holds it.
FIREWORKS = {
    "conv_id": "hit:0_conv:1", "split": "train", "emotion": "sentimental",
    "prompt": "I remember going to the fireworks with my best friend. There was a lot of people, but it only felt "
              "like us in the world.",
    "utterances": [
        {"utterance_idx": 1, "role": "speaker", "text": "I remember going to see the fireworks with my best friend. "
         "It was the first time we ever spent time alone together. Although there was a lot of people, we felt "
         "like the only people in the world."},
        {"utterance_idx": 2, "role": "listener", "text": "Was this a friend you were in love with, or just a best "
         "friend?"},
        {"utterance_idx": 3, "role": "speaker", "text": "This was a best friend. I miss her."},
        {"utterance_idx": 4, "role": "listener", "text": "Where has she gone?"},
        {"utterance_idx": 5, "role": "speaker", "text": "We no longer talk."},
        {"utterance_idx": 6, "role": "listener", "text": "Oh was this something that happened because of an "
         "argument?"},
    ],
}
DARKNESS = {
    "conv_id": "hit:1_conv:2", "split": "train", "emotion": "afraid", "prompt": "i used to scare for darkness",
    "utterances": [
        {"utterance_idx": 1, "role": "speaker", "text": "it feels like hitting to blank wall when i see the darkness"},
        {"utterance_idx": 2, "role": "listener", "text": "Oh ya? I don't really see how"},
        {"utterance_idx": 3, "role": "speaker", "text": "dont you feel so.. its a wonder"},
    ],
}


def needs_shared(path: Path):
    return pytest.mark.skipif(not path.exists(), reason=f"shared data not found at {path} (CI has it)")


def write_jsonl(path: Path, records) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


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
