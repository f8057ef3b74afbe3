"""Where labels come from, all as :class:`~empathic_rlhf.records.Label` records marked with their source.

- ``human``: the labelling app's export (``label/labels.jsonl`` with the tasks it labelled, ``label/tasks.jsonl``).
- ``gold-vs-policy``: the human-written gold reply (``Task.gold``) is preferred over each of π's samples. Earlier
  work on this task found this bootstrap worked when ~2,200 human labels were too few.
- ``synthetic:<scorer>``: a scorer of :mod:`empathic_rlhf.scorers` picks the best candidate -- for dry runs and
  tests. Sources are never mixed silently: training names the sources it uses and refuses unknown ones.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..records import GOLD_SOURCE, Candidate, Label, Task
from ..scorers import ColumnFn

GOLD_CAND = "G"


def with_gold(task: Task) -> Task | None:
    """The task with its gold reply among the candidates (``source: gold``); None when it has no gold reply."""
    if any(c.source == GOLD_SOURCE for c in task.candidates):
        return task
    if task.gold is None:
        return None
    candidates = [*task.candidates, Candidate(cand_id=GOLD_CAND, text=task.gold, source=GOLD_SOURCE)]
    return Task.model_validate({**task.model_dump(), "candidates": [c.model_dump() for c in candidates]})


def gold_vs_policy(tasks: Iterable[Task]) -> tuple[list[Task], list[Label]]:
    """Tasks (gold added where missing) and one label per task choosing the gold reply."""
    out_tasks, labels = [], []
    for task in tasks:
        task = with_gold(task)
        if task is None:
            continue
        (gold_cand,) = [c.cand_id for c in task.candidates if c.source == GOLD_SOURCE]
        out_tasks.append(task)
        labels.append(Label(task_id=task.task_id, annotator="gold", source="gold-vs-policy", outcome="best",
                            best=gold_cand))
    return out_tasks, labels


def synthetic(tasks: Iterable[Task], scorer: ColumnFn, name: str) -> list[Label]:
    """One label per task: the candidate the scorer rates highest (a tie at the top is labelled ``tie``)."""
    from ..records import as_dicts

    tasks = list(tasks)
    entries = [(task, c) for task in tasks for c in task.candidates if c.source != GOLD_SOURCE]
    scores = [float(s) for s in scorer([as_dicts(task.prompt) for task, _ in entries], [c.text for _, c in entries])]
    by_task: dict[str, list[tuple[float, str]]] = {}
    for (task, cand), score in zip(entries, scores):
        by_task.setdefault(task.task_id, []).append((score, cand.cand_id))
    labels = []
    for task in tasks:
        ranked = sorted(by_task.get(task.task_id, []), key=lambda sc: -sc[0])
        if not ranked:
            continue
        tie = len(ranked) > 1 and abs(ranked[0][0] - ranked[1][0]) < 1e-9
        labels.append(Label(task_id=task.task_id, annotator=f"synthetic:{name}", source=f"synthetic:{name}",
                            outcome="tie" if tie else "best", best=None if tie else ranked[0][1]))
    return labels
