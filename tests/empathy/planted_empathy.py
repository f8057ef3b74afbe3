"""Planted data for the empathy yardsticks: EPITOME-style CSVs and ED-style conversations whose labels follow a
known rule, so a tiny build must learn it (imported as ``from empathy.planted_empathy import ...``)."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

# Phrases that set each mechanism's level to 2 / 1 in the planted responses.
STRONG = {"er": "i am so sorry for you", "ip": "i understand how that feels", "ex": "what happened then?"}
WEAK = {"er": "that is sad", "ip": "i see", "ex": "tell me"}
FILLER = ["the bus is blue", "my cat sleeps a lot", "we went to the shop", "it rained on tuesday",
          "lunch was pasta", "the game starts soon"]
FILES = {"er": "emotional-reactions-reddit.csv", "ip": "interpretations-reddit.csv",
         "ex": "explorations-reddit.csv"}
EMOTION_WORDS = {
    "afraid": (["scared", "spider", "dark", "noise"], ["that sounds scary", "stay safe out there"]),
    "joyful": (["happy", "party", "won", "great"], ["congrats that is wonderful", "how fun for you"]),
    "sad": (["cried", "lost", "funeral", "miss"], ["sorry for your loss", "that is heartbreaking"]),
}


def write_planted_epitome(folder: Path, posts: int = 120, seed: int = 0) -> Path:
    """Three CSVs over the same rows: two responses per post; each mechanism's level is set by its phrase."""
    rng = random.Random(seed)
    rows = []
    for p in range(posts):
        for r in range(2):
            levels = {m: rng.choice((0, 0, 1, 2)) for m in STRONG}
            parts = [rng.choice(FILLER)]
            parts += [STRONG[m] if level == 2 else WEAK[m] for m, level in levels.items() if level]
            rng.shuffle(parts)
            rows.append((f"post{p}", f"resp{p}_{r}", f"seeker post {p} {rng.choice(FILLER)}", ". ".join(parts),
                         levels))
    folder.mkdir(parents=True, exist_ok=True)
    for m, name in FILES.items():
        with open(folder / name, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["sp_id", "rp_id", "seeker_post", "response_post", "level", "rationales"])
            for sp, rp, post, response, levels in rows:
                writer.writerow([sp, rp, post, response, levels[m], ""])
    return folder


def write_planted_ed(folder: Path, per_split=(90, 30, 30), seed: int = 0) -> Path:
    """Conversation JSONL: the speaker's words and the listener's replies depend on the emotion."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, count in zip(("train", "valid", "test"), per_split):
        with open(folder / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for i in range(count):
                emotion = sorted(EMOTION_WORDS)[i % len(EMOTION_WORDS)]
                words, replies = EMOTION_WORDS[emotion]
                speaker = " ".join(rng.sample(words, 2) + rng.sample(FILLER, 1))
                utterances = [
                    {"utterance_idx": 1, "role": "speaker", "text": f"I was {speaker} yesterday."},
                    {"utterance_idx": 2, "role": "listener", "text": f"Oh, {rng.choice(replies)}."},
                    {"utterance_idx": 3, "role": "speaker", "text": f"Yes, {rng.choice(words)} indeed."},
                    {"utterance_idx": 4, "role": "listener", "text": f"{rng.choice(replies).capitalize()}!"},
                ]
                f.write(json.dumps({"conv_id": f"hit:{i}_conv:{split}{i}", "split": split, "emotion": emotion,
                                    "prompt": f"I felt {emotion}.", "utterances": utterances}) + "\n")
    return folder


def build_planted_scorer(root: Path) -> Path:
    """Planted data + a tiny build in ``root``; returns the model folder (a second or two)."""
    from empathic_rlhf.empathy.build import build_models
    from empathic_rlhf.empathy.config import EmpathyBuildConfig

    config = EmpathyBuildConfig(epitome_dir=str(write_planted_epitome(root / "epitome")),
                                data_dir=str(write_planted_ed(root / "ed")))
    return build_models(config, root / "model", log=lambda line: None)
