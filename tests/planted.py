"""Synthetic comparison tasks with a planted preference, shared by the reward and DPO tests."""

import random

from empathic_rlhf.records import Label, Task

OPENERS = ["My cat ran away", "I failed my exam", "We lost the game", "My car broke down", "I got a new job",
           "My sister is visiting", "It rained all week", "I moved to a new city", "My phone fell in water"]
NOUNS = ["today", "yesterday", "this week", "again", "at last", "this morning", "last night", "for once"]


def planted_tasks(n: int, seed: int = 0):
    """Tasks whose best candidate is the only one saying 'sorry' (the planted preference)."""
    rng = random.Random(seed)
    tasks, labels = [], []
    for i in range(n):
        k = rng.choice([2, 3, 4])
        good = f"I am so sorry about that {rng.choice(NOUNS)}."
        bad = [f"{rng.choice(['Nice', 'Cool', 'Okay', 'Fine'])}, tell me more {rng.choice(NOUNS)}." for _ in
               range(k - 1)]
        texts = bad + [good]
        rng.shuffle(texts)
        cands = [{"cand_id": f"c{j}", "text": t, "source": "pi"} for j, t in enumerate(texts)]
        opener = f"{rng.choice(OPENERS)} {rng.choice(NOUNS)}."
        tasks.append(Task.model_validate({
            "task_id": f"t{i}", "conv_id": f"conv{i}", "emotion": "sad", "situation": "",
            "prompt": [{"role": "user", "content": opener}], "history": [{"role": "speaker", "text": opener}],
            "candidates": cands}))
        labels.append(Label(task_id=f"t{i}", annotator="planted", source="synthetic:planted", outcome="best",
                            best=next(c["cand_id"] for c in cands if c["text"] == good)))
    return tasks, labels


EMOTIONS = ["sad", "joyful", "afraid", "proud", "lonely", "angry"]
SPEAKER = ["My dog died last week.", "I got the job I wanted!", "I heard a noise downstairs at night.",
           "My son graduated today.", "Nobody called me on my birthday.", "Someone scratched my car."]
LISTENER = ["I am so sorry to hear that. How are you holding up?", "That is wonderful news! When do you start?",
            "That sounds scary. What did you do?", "Congratulations! You must be so proud.",
            "That must hurt. Do you want to talk about it?", "How frustrating! Did you find out who did it?"]
FOLLOW = ["Thank you, it has been hard.", "Next Monday, I cannot wait.", "I called the police right away.",
          "I am, he worked so hard.", "Yes, I feel forgotten.", "No, and it makes me so angry."]


def synthetic_conversations(n: int, split: str, offset: int = 0) -> list[dict]:
    """ED-like conversations (speaker, listener, speaker, listener) built from templates, for end-to-end tests."""
    conversations = []
    for i in range(n):
        j = (i + offset) % len(EMOTIONS)
        turns = [SPEAKER[j], LISTENER[j], FOLLOW[j], LISTENER[(j + 1) % len(LISTENER)]]
        conversations.append({
            "conv_id": f"hit:{i + offset}_conv:{i + offset}", "split": split, "emotion": EMOTIONS[j],
            "prompt": SPEAKER[j], "utterances": [
                {"utterance_idx": k + 1, "role": "speaker" if k % 2 == 0 else "listener", "text": t}
                for k, t in enumerate(turns)]})
    return conversations
