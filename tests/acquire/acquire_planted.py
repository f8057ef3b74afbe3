"""A tiny planted pool for the acquisition tests, with a fake embedder (text -> a vector we chose).

Replies are 4-d vectors. Axis 0 is what the labels teach (the chosen reply is higher on it, in many pairs).
Axis 1 appears in only two labelled pairs that contradict each other, so bootstrap members disagree about it:
a pool task whose replies differ only on axis 1 is one the labels do not settle (the planted uncertain tasks).
A "clear" task's replies differ on axis 0 (every member is sure); a "coin" task's replies are the same vector
(every member says 1/2: uncertain for bt-half, but a label there teaches the model nothing).
"""

from __future__ import annotations

import numpy as np

from empathic_rlhf.records import Candidate, Message, Pair, Task, display_history, reply

DIM = 4


class FakeEmbedder:
    """Looks each text up in a table; counts the texts it was asked for (to check the cache)."""

    def __init__(self):
        self.table: dict[str, np.ndarray] = {}
        self.asked = 0

    def add(self, text: str, vector) -> str:
        self.table[text] = np.asarray(vector, dtype=np.float32)
        return text

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.asked += len(texts)
        return np.stack([self.table[t] for t in texts])


def context_vector(i: int) -> np.ndarray:
    """Distinct unit context vectors (far apart, so min_distance never bites unless a test wants it)."""
    angle = i * 0.7
    return np.array([np.cos(angle), np.sin(angle), 0.3 * np.cos(3 * angle), 0.3 * np.sin(5 * angle)]) / np.sqrt(1.09)


def make_task(embed: FakeEmbedder, task_id: str, conv_id: str, context: int, a, b, gold=None) -> Task:
    prompt = [Message(role="user", content=embed.add(f"context {context}", context_vector(context)))]
    candidates = [Candidate(cand_id="A", text=embed.add(f"{task_id} A", a), source="sft"),
                  Candidate(cand_id="B", text=embed.add(f"{task_id} B", b), source="sft")]
    if gold is not None:
        embed.add(f"{task_id} gold", gold)
    return Task(task_id=task_id, conv_id=conv_id, prompt=prompt, history=display_history(prompt),
                gold=f"{task_id} gold" if gold is not None else None, candidates=candidates)


def labelled_pairs(embed: FakeEmbedder, n: int = 30, seed: int = 0) -> list[Pair]:
    """n pairs teaching axis 0 (noise on axes 2-3), and two contradicting pairs on axis 1."""
    rng = np.random.default_rng(seed)
    prompt = [Message(role="user", content=embed.add("context 999", context_vector(999)))]
    pairs = []
    for i in range(n):
        high = [1.0, 0.0, *rng.normal(0, 0.3, 2)]
        low = [-1.0, 0.0, *rng.normal(0, 0.3, 2)]
        pairs.append(Pair(prompt=prompt, chosen=reply(embed.add(f"taught hi {i}", high)),
                          rejected=reply(embed.add(f"taught lo {i}", low)), task_id=f"t{i}", source="human",
                          annotator="ann"))
    for i, sign in enumerate((1.0, -1.0)):
        pairs.append(Pair(prompt=prompt, chosen=reply(embed.add(f"axis1 hi {i}", [0.0, sign, 0.0, 0.0])),
                          rejected=reply(embed.add(f"axis1 lo {i}", [0.0, -sign, 0.0, 0.0])), task_id=f"u{i}",
                          source="human", annotator="ann"))
    return pairs


def planted_pool(embed: FakeEmbedder, *, clear: int = 12, uncertain: int = 4, coin: int = 0) -> list[Task]:
    """``clear`` tasks on axis 0, ``uncertain`` on axis 1 (ids start with ``unsure``), ``coin`` identical pairs;
    each its own conversation and context."""
    tasks, context = [], 0
    for kind, count, a, b in (("clear", clear, [1.5, 0, 0, 0], [-1.5, 0, 0, 0]),
                              ("unsure", uncertain, [0, 1.5, 0, 0], [0, -1.5, 0, 0]),
                              ("coin", coin, [0.2, 0.2, 0, 0], [0.2, 0.2, 0, 0])):
        for i in range(count):
            tasks.append(make_task(embed, f"{kind}-{i}", f"conv-{context}", context, a, b))
            context += 1
    return tasks
