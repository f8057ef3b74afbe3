"""Constants and small helpers shared by the tests (imported by name: ``from helpers import ...``).

They live here rather than in ``conftest.py`` because pytest imports every conftest as a module named
``conftest``, so ``from conftest import`` would be ambiguous beside ``tests/label/conftest.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

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
