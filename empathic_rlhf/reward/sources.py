"""Where labels come from, all written in the same :class:`Label` form and marked with their source.

- ``human``: the labelling app's export (``labels/labels.jsonl``), read as is.
- ``gold-vs-policy``: the human-written gold reply is preferred over each of π's samples. Earlier work on this
  task found this bootstrap worked when ~2,200 human labels were too few.
- ``synthetic:<scorer>``: a scorer (e.g. the static utterance reward) picks the best candidate -- for demos and
  tests. Sources are never mixed silently: training names the sources it uses and refuses unknown ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .labels import Label

GOLD_SOURCE = "gold"  # the candidate ``source`` that marks the dataset's own human reply

BatchScorer = Callable[[list[list[str]], list[str]], list[float]]


def gold_key(conv_id: str, history_texts: Iterable[str]) -> tuple:
    """Identify a context by conversation and the text of its turns (system/knowledge excluded)."""
    return (conv_id, tuple(history_texts))


def gold_lookup(samples: Iterable[dict]) -> dict[tuple, str]:
    """Map each prepared sample's context to its gold reply."""
    return {gold_key(s["conv_id"], [m["content"] for m in s["prompt"] if m["role"] != "system"]):
            s["completion"][0]["content"] for s in samples}


def with_gold(task: dict, gold: dict[tuple, str] | None = None) -> dict | None:
    """The task with its gold reply as a candidate (``source: gold``); None when the gold reply is unknown."""
    if any(c.get("source") == GOLD_SOURCE for c in task["candidates"]):
        return task
    text = (gold or {}).get(gold_key(task["conv_id"], [t["text"] for t in task["history"]]))
    if text is None:
        return None
    return {**task, "candidates": [*task["candidates"], {"cand_id": "gold", "text": text, "source": GOLD_SOURCE}]}


def gold_vs_policy(tasks: Iterable[dict], gold: dict[tuple, str] | None = None) -> tuple[list[dict], list[Label]]:
    """Tasks (gold added where missing) and one label per task choosing the gold reply."""
    out_tasks, labels = [], []
    for task in tasks:
        task = with_gold(task, gold)
        if task is None:
            continue
        (gold_cand,) = [c["cand_id"] for c in task["candidates"] if c.get("source") == GOLD_SOURCE]
        out_tasks.append(task)
        labels.append(Label(task_id=task["task_id"], annotator="gold", source="gold-vs-policy", outcome="best",
                            best=gold_cand))
    return out_tasks, labels


def synthetic(tasks: Iterable[dict], scorer: BatchScorer, name: str) -> list[Label]:
    """One label per task: the candidate the scorer rates highest (a tie at the top is labelled ``tie``)."""
    tasks = list(tasks)
    entries = [(task, c) for task in tasks for c in task["candidates"] if c.get("source") != GOLD_SOURCE]
    scores = scorer([[t["text"] for t in task["history"]] for task, _ in entries], [c["text"] for _, c in entries])
    by_task: dict[str, list[tuple[float, str]]] = {}
    for (task, cand), score in zip(entries, scores):
        by_task.setdefault(task["task_id"], []).append((score, cand["cand_id"]))
    labels = []
    for task in tasks:
        ranked = sorted(by_task.get(task["task_id"], []), key=lambda sc: -sc[0])
        if not ranked:
            continue
        tie = len(ranked) > 1 and abs(ranked[0][0] - ranked[1][0]) < 1e-9
        labels.append(Label(task_id=task["task_id"], annotator=f"synthetic:{name}", source=f"synthetic:{name}",
                            outcome="tie" if tie else "best", best=None if tie else ranked[0][1]))
    return labels
