"""Select the tasks people label next (library API, and the stage-shaped ``run`` behind ``empathic acquire``).

    <run>/sample/tasks.jsonl + labelled pairs (<run>/label/, else the gold-vs-policy bootstrap)
        -> <run>/acquire/tasks.jsonl   the chosen tasks, in the order to label (for ``empathic label import``)
        -> <run>/acquire/scores.jsonl  {task_id, score, rule} per chosen task

The ensemble trains on every labelled pair (weight 1) plus the pool's gold-vs-policy bootstrap pairs (weight
``bootstrap_weight``; weight 1 when nothing is labelled yet, so selection works from zero human labels). Tasks that
already have a (non-bootstrap) label are not offered again.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from ..errors import EmpathicError
from ..io import write_jsonl
from ..records import GOLD_SOURCE, Label, Pair, Task, pairs_from_label, read_records, write_records
from ..stage import Context, InRounds, Stage
from .config import AcquireConfig
from .diversity import diverse_top
from .features import CachedEmbedder, Embedder, candidate_features, context_text, minilm_embedder
from .preference import CandidateTable, fit_ensemble
from .rules import acquisition_scores

BOOTSTRAP_SOURCE = "gold-vs-policy"


def bootstrap_pairs(pool: list[Task]) -> list[Pair]:
    """Gold reply over each policy reply, for every pool task with a gold reply (reward/sources.py)."""
    from ..reward.sources import gold_vs_policy

    tasks, labels = gold_vs_policy(pool)
    return [pair for task, label in zip(tasks, labels) for pair in pairs_from_label(task, label)]


def training_pairs(pool: list[Task], labelled: list[Pair], bootstrap_weight: float
                   ) -> tuple[list[Pair], np.ndarray]:
    """The pairs the ensemble fits and their weights: labelled ones at 1, bootstrap ones (given or built from the
    pool, without duplicates) at ``bootstrap_weight`` -- or at 1 when there is nothing else."""
    labelled_pairs = [p for p in labelled if p.source != BOOTSTRAP_SOURCE]
    seen, boot = set(), []
    for pair in [*(p for p in labelled if p.source == BOOTSTRAP_SOURCE), *bootstrap_pairs(pool)]:
        key = (pair.task_id, pair.chosen[0].content, pair.rejected[0].content)
        if key not in seen:
            seen.add(key)
            boot.append(pair)
    weight = bootstrap_weight if labelled_pairs else 1.0
    pairs = labelled_pairs + (boot if weight > 0 else [])
    weights = np.concatenate([np.ones(len(labelled_pairs)), np.full(len(pairs) - len(labelled_pairs), weight)])
    return pairs, weights


def pair_differences(pairs: list[Pair], embed: Embedder, kind: str) -> np.ndarray:
    """``f(chosen) - f(rejected)`` per pair."""
    contexts = embed([context_text(p.prompt) for p in pairs])
    chosen = embed([p.chosen[0].content for p in pairs])
    rejected = embed([p.rejected[0].content for p in pairs])
    return candidate_features(chosen, contexts, kind) - candidate_features(rejected, contexts, kind)


def task_features(pool: list[Task], contexts: np.ndarray, embed: Embedder, kind: str) -> list[np.ndarray]:
    """Each task's candidate feature rows (``contexts``: the tasks' context embeddings)."""
    flat = embed([c.text for t in pool for c in t.candidates])
    per_task, start = [], 0
    for task, context in zip(pool, contexts):
        k = len(task.candidates)
        per_task.append(candidate_features(flat[start:start + k], context, kind))
        start += k
    return per_task


def select_tasks(pool: list[Task], labelled: list[Pair], config: AcquireConfig, *, seed: int,
                 cache_dir: Path | None = None, embed: Embedder | None = None) -> list[tuple[Task, float]]:
    """The tasks to send to people (at most ``config.budget``), best first, each with its acquisition score.

    ``embed`` replaces the MiniLM encoder (tests inject a fake one); embeddings are cached in ``cache_dir``."""
    embedder = CachedEmbedder(embed or minilm_embedder, cache_dir)
    done = {p.task_id for p in labelled if p.source != BOOTSTRAP_SOURCE}
    offered = [t for t in pool if t.task_id not in done]
    if not offered:
        return []
    rng = np.random.default_rng(seed)
    context_texts = [context_text(t.prompt) for t in offered]
    if config.rule == "random":
        contexts = embedder(context_texts)
        probabilities = np.zeros((len(offered), 1, 2))
    else:
        pairs, weights = training_pairs(pool, labelled, config.bootstrap_weight)
        # every text new to the cache in one encoder call (and one cache write)
        contexts = embedder(context_texts + [c.text for t in offered for c in t.candidates]
                            + [text for p in pairs for text in (context_text(p.prompt), p.chosen[0].content,
                                                                 p.rejected[0].content)])[:len(offered)]
        if not pairs:
            raise EmpathicError("acquire: no labelled pairs and no task with a gold reply to bootstrap from, so "
                                f"rule {config.rule!r} has no model to ask; use acquire.rule=random for this round")
        members = fit_ensemble(pair_differences(pairs, embedder, config.features), weights, config.l2,
                               config.ensemble_size, rng)
        per_task = task_features(offered, contexts, embedder, config.features)
        probabilities = CandidateTable(per_task).choice_probabilities(members)
    scores = acquisition_scores(config.rule, probabilities, rng)
    groups = [t.conv_id or t.task_id for t in offered]
    picked = diverse_top(scores, groups, contexts, config.budget, max_per_group=config.max_per_conversation,
                         min_distance=config.min_distance)
    return [(offered[i], float(scores[i])) for i in picked]


def write_selection(out_dir: Path, chosen: list[tuple[Task, float]], config: AcquireConfig) -> dict:
    """``out_dir/tasks.jsonl`` (the chosen tasks) and ``out_dir/scores.jsonl`` ({task_id, score, rule}), each
    written atomically; returns a summary."""
    out_dir = Path(out_dir)
    write_records(out_dir / "tasks.jsonl", [task for task, _ in chosen])
    write_jsonl(out_dir / "scores.jsonl", ({"task_id": task.task_id, "score": score, "rule": config.rule}
                                           for task, score in chosen))
    scores = [score for _, score in chosen]
    return {"rule": config.rule, "tasks": len(chosen), "budget": config.budget,
            "conversations": len({task.conv_id or task.task_id for task, _ in chosen}),
            "score_max": max(scores) if scores else None, "score_min": min(scores) if scores else None}


# ---- the stage: <run>/sample/tasks.jsonl -> <run>/acquire/ (in a later round: the round's pool) ----

def human_paths(run) -> tuple[Path, Path]:
    return run.stage_dir("label") / "labels.jsonl", run.stage_dir("label") / "tasks.jsonl"


def inputs(context: Context) -> dict[str, str]:
    run, later = context.run, context.round
    if later is not None:  # the round's pool and the labels so far
        return {"pool": str(run.stage_dir("sample") / "tasks.jsonl"),
                "labels/before": str(later.previous.stage_dir("reward") / "labels.jsonl")}
    found = {"sample/tasks": str(run.stage_dir("sample") / "tasks.jsonl")}
    labels, tasks = human_paths(run)
    found.update({f"label/{p.name}": str(p) for p in (labels, tasks) if p.is_file()})
    return found


def labelled_pairs(config: AcquireConfig, run, pool: list[Task]) -> tuple[list[Pair], Counter]:
    """Pairs of the labels in ``<run>/label/`` (per ``config.labels``) and the label counts by source."""
    labels_path, tasks_path = human_paths(run)
    if config.labels == "gold-vs-policy" or (config.labels == "auto" and not labels_path.is_file()):
        return [], Counter()
    if not labels_path.is_file():
        raise EmpathicError(f"acquire.labels={config.labels} but {labels_path} does not exist (export the app's "
                            "labels)")
    by_id = {t.task_id: t for t in pool}
    if tasks_path.is_file():
        by_id.update({t.task_id: t for t in read_records(tasks_path, Task)})
    counts: Counter = Counter()
    pairs = []
    for label in read_records(labels_path, Label):
        counts[label.source] += 1
        wanted = label.synthetic if config.labels == "simulated" else label.source == "human"
        if not wanted:  # people's and simulated labels never mix
            counts["left_out"] += 1
            continue
        task = by_id.get(label.task_id)
        if task is None:
            counts["without_task"] += 1
            continue
        pairs.extend(pairs_from_label(task, label))
    return pairs, counts


def run(context: Context) -> dict:
    """Choose ``acquire.budget`` tasks of the pool given the labels so far: the run's (``acquire.labels`` of
    ``<run>/label/``) or, in a later round, those of the kind the rounds collect."""
    config, run, later = context.config, context.run, context.round
    pool_path = run.stage_dir("sample") / "tasks.jsonl"
    if not pool_path.is_file():
        raise EmpathicError(f"{pool_path}: file not found (run `empathic sample` first)")
    pool = read_records(pool_path, Task)
    if later is None:
        pairs, counts = labelled_pairs(config.acquire, run, pool)
    else:  # with no labels of the rounds' kind yet, select_tasks asks the gold-vs-policy bootstrap of the pool
        pairs, counts = later.labelled_pairs(), None
    chosen = select_tasks(pool, pairs, config.acquire, seed=config.seed + (context.number if later else 0),
                          cache_dir=run.stage_dir("acquire") / "cache")
    if not chosen and later is not None:  # the round's label stage would have nothing to label
        raise EmpathicError(f"round {later.number}: acquire chose no task from a pool of {len(pool)}")
    summary = write_selection(run.stage_dir("acquire"), chosen, config.acquire)
    summary.update({"pool": len(pool), "labelled_pairs": len(pairs)})
    if counts is not None:
        summary.update({"labels_by_source": dict(counts),
                        "gold_candidates": sum(any(c.source == GOLD_SOURCE for c in t.candidates) for t in pool)})
    return {"outputs": ["acquire/tasks.jsonl", "acquire/scores.jsonl"], "summary": summary}


# Not a stage of `empathic run` (its own command, and a stage of every later round, where sample is the round's own).
STAGE = Stage("acquire", ("sample", "acquire"), inputs, run, command=("acquire",),
              rounds=InRounds(keys=("labeller", "oracle"), sections=("acquire",)))
