"""Simulated annotators: label the app's tasks through the same database and the same functions the web server uses
(``assign.next_assignment`` / ``assign.submit``), so quotas, overlap, calibration and gold tasks apply exactly as
they do for people. Each picks a reply by an oracle -- any scorer of :mod:`empathic_rlhf.scorers` -- through the
noise model of :mod:`.noisy_annotator` (softmax choice plus a bias towards the reply shown first), its
temperature set so that two simulated annotators agree with a chosen Cohen's kappa (people reach ~0.4 here).

Simulated annotators are rows of ``annotators`` whose ``kind`` is ``synthetic:<oracle>`` and whose token hash is
no SHA-256 of anything, so no invite link opens them; exports take a label's source from that kind, so their
labels are ``source: synthetic:<oracle>`` in every file and never pass as human. Resumable: the database knows
what is labelled (claim and label are one transaction), and a rerun goes on from there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import random
import secrets
import time
from pathlib import Path

from ..errors import EmpathicError

from .config import SIMULATED_ANNOTATORS, SIMULATED_KAPPA, SIMULATED_POSITION_BIAS, LabelConfig
from .noisy_annotator import NoisyAnnotator, expected_kappa, temperature_for_kappa

TEMPERATURE_TASKS = 2000  # the temperature is fitted on at most this many tasks (the bisection is k! work per task)
PROGRESS_EVERY_S = 10.0


def annotator_kind(oracle: str) -> str:
    return f"synthetic:{oracle}"


def annotator_names(oracle: str, n: int) -> list[str]:
    """Stable names (a rerun finds the same annotators): ``sim:<oracle>:<i>``, a long oracle name shortened."""
    tag = oracle if len(oracle) <= 60 else f"{oracle[:40]}~{hashlib.sha256(oracle.encode()).hexdigest()[:8]}"
    return [f"sim:{tag}:{i}" for i in range(1, n + 1)]


def ensure_annotators(store, names: list[str], kind: str) -> list[int]:
    """The ids of the named simulated annotators, created where missing. A person of the same name is an error:
    their labels would be mixed with the simulation's."""
    from sqlalchemy import select

    from .models import Annotator

    ids = []
    with store.tx() as s:
        for name in names:
            row = s.scalar(select(Annotator).where(Annotator.name == name))
            if row is None:
                # "synthetic:" + hex is no SHA-256 of any token: no invite link can ever open this annotator
                row = Annotator(name=name, token_hash="synthetic:" + secrets.token_hex(24), is_admin=False, kind=kind)
                s.add(row)
                s.flush()
            elif row.kind != kind:
                raise EmpathicError(f"annotator {name!r} exists with kind {row.kind!r}, not {kind!r}: rename it or "
                                    "use another database")
            ids.append(row.id)
    return ids


def _task_key(record: dict) -> str:
    """What the oracle's scores depend on: the prompt and the candidates' texts."""
    data = repr(([(m["role"], m["content"]) for m in record["prompt"]],
                 [(c["cand_id"], c["text"]) for c in record["candidates"]]))
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def imported_tasks(store) -> dict[int, dict]:
    """Every imported task: database id -> record."""
    from sqlalchemy import select

    from .models import Task

    with store.read() as s:
        return dict(s.execute(select(Task.id, Task.record).order_by(Task.id)).all())


def score_tasks(records: list[dict], oracle: str, scorer, batch: int = 256) -> list[list[float]]:
    """The oracle's score of each candidate (in the record's order), given the task's prompt, the way
    ``reward/sources.synthetic`` scores; batched, with progress."""
    entries = [(r["prompt"], c["text"]) for r in records for c in r["candidates"]]
    flat: list[float] = []
    started = last = time.monotonic()
    for start in range(0, len(entries), batch):
        part = entries[start:start + batch]
        flat += [float(x) for x in scorer([h for h, _ in part], [t for _, t in part])]
        if time.monotonic() - last > PROGRESS_EVERY_S:
            last = time.monotonic()
            print(f"simulate: scored {len(flat)}/{len(entries)} replies with {oracle} "
                  f"({last - started:.0f} s)", flush=True)
    bad = next((i for i, x in enumerate(flat) if not math.isfinite(x)), None)
    if bad is not None:
        raise EmpathicError(f"oracle {oracle!r} gave a non-finite score ({flat[bad]}) to reply {entries[bad][1]!r}")
    out, i = [], 0
    for r in records:
        out.append(flat[i:i + len(r["candidates"])])
        i += len(r["candidates"])
    return out


class OracleScores:
    """Each task's candidates scored once: kept in memory, and in ``cache_path`` (JSON lines, optional) so that a
    resumed simulation does not score everything again with a slow oracle. A cached entry is used only while the
    task's prompt and candidates are those it was scored on."""

    def __init__(self, oracle: str, cache_path: str | Path | None = None):
        from ..scorers import column_scorer

        self.oracle, self.scorer = oracle, column_scorer(oracle)
        self.cache_path = Path(cache_path) if cache_path else None
        self._cache: dict[str, list[float]] = {}
        if self.cache_path is not None and self.cache_path.is_file():
            from ..io import read_jsonl

            self._cache = {row["key"]: row["scores"] for _, row in read_jsonl(self.cache_path)
                           if row.get("oracle") == oracle}

    def scores(self, records: list[dict]) -> list[list[float]]:
        keys = [f"{r['task_id']}:{_task_key(r)}" for r in records]
        missing = [(k, r) for k, r in zip(keys, records) if k not in self._cache]
        if missing:
            for (key, _), s in zip(missing, score_tasks([r for _, r in missing], self.oracle, self.scorer)):
                self._cache[key] = s
            self._save()
        return [self._cache[k] for k in keys]

    def _save(self) -> None:
        if self.cache_path is None:
            return
        from ..io import write_jsonl

        write_jsonl(self.cache_path, ({"oracle": self.oracle, "key": k, "scores": s} for k, s in self._cache.items()))


def choose_temperature(tasks_scores: list[list[float]], kappa: float | None, temperature: float | None,
                       position_bias: float, seed: int) -> tuple[float, list[list[float]]]:
    """``temperature`` as given, else the one at which two annotators agree with ``kappa`` on (a sample of at most
    TEMPERATURE_TASKS of) these tasks. Returns it and the tasks it was judged on."""
    sample = list(tasks_scores)
    if len(sample) > TEMPERATURE_TASKS:
        sample = random.Random(seed).sample(sample, TEMPERATURE_TASKS)
    if temperature is not None:
        return temperature, sample
    try:
        return temperature_for_kappa(sample, kappa, position_bias), sample
    except ValueError as e:
        raise EmpathicError(f"--kappa {kappa}: {e}; pass --temperature instead") from None


def _check_arguments(annotators: int, kappa, temperature, position_bias: float, max_labels) -> None:
    if annotators < 1 or annotators > 1000:
        raise EmpathicError(f"--annotators must lie in 1..1000, got {annotators}")
    if temperature is None and kappa is None:
        raise EmpathicError("give --kappa or --temperature")
    if temperature is not None and not (math.isfinite(temperature) and temperature > 0):
        raise EmpathicError(f"--temperature must be a positive number, got {temperature}")
    if temperature is None and not 0.0 < kappa < 1.0:
        raise EmpathicError(f"--kappa must lie strictly between 0 and 1, got {kappa}")
    if not math.isfinite(position_bias):
        raise EmpathicError(f"--position-bias must be a finite number, got {position_bias}")
    if max_labels is not None and max_labels < 0:
        raise EmpathicError(f"--max-labels must be >= 0, got {max_labels}")


def count_tasks(store) -> int:
    from sqlalchemy import func, select

    from .models import Task

    with store.read() as s:
        return s.scalar(select(func.count()).select_from(Task))


def count_labels(store, kind: str) -> int:
    from sqlalchemy import func, select

    from .models import Annotator, Label

    with store.read() as s:
        return s.scalar(select(func.count()).select_from(Label).join(Annotator, Annotator.id == Label.annotator_id)
                        .where(Annotator.kind == kind))


def label_until_done(store, config: LabelConfig, annotators: dict[int, str], scores: OracleScores,
                     noisy: NoisyAnnotator, *, kind: str, max_labels: int | None, seed: int) -> dict:
    """Annotators take turns (a fresh random order each round) claiming and labelling one task each, until none
    gets a task or ``max_labels`` labels of ``kind`` are in the database. Each claim + label is one transaction,
    so a kill loses at most the one in flight (rolled back)."""
    from . import assign
    from .requests import LabelRequest

    # the oracle gives no 1-5 ratings, so none are required of it; who gets which task is untouched
    label_rules = dataclasses.replace(config, criteria=[], ratings_required=False)
    total = count_labels(store, kind)
    added, turn = 0, random.Random(f"{seed}:turns:{total}")
    gold_rngs = {aid: random.Random(f"{seed}:{name}:gold:{total}") for aid, name in annotators.items()}
    active, last, known = list(annotators), time.monotonic(), count_tasks(store)
    while active and (max_labels is None or total < max_labels):
        if count_tasks(store) != known:  # tasks imported meanwhile: scored here, not inside a write transaction
            known = count_tasks(store)
            scores.scores(list(imported_tasks(store).values()))
        turn.shuffle(active)
        for aid in list(active):
            if max_labels is not None and total >= max_labels:
                break
            with store.tx() as s:
                found = assign.next_assignment(s, aid, config, rng=gold_rngs[aid])
                if found is None:
                    active.remove(aid)
                    continue
                a, task = found
                order = list(a.shown_order)
                by_cand = dict(zip([c["cand_id"] for c in task.record["candidates"]], scores.scores([task.record])[0]))
                # seeded by annotator and task: the same choice whether or not the run was interrupted before it
                pick = noisy.choose([by_cand[c] for c in order], random.Random(f"{seed}:{annotators[aid]}:{task.task_id}"))
                assign.submit(s, aid, LabelRequest(assignment_id=a.id, task_id=task.task_id, outcome="best",
                                                   best=order[pick], seconds=0.0), label_rules)
            added, total = added + 1, total + 1
            if time.monotonic() - last > PROGRESS_EVERY_S:
                last = time.monotonic()
                print(f"simulate: {total} labels ({added} in this run), {len(active)} annotators still labelling",
                      flush=True)
    return {"labels_added": added, "labels_total": total,
            "stopped": "no tasks left" if not active else "max_labels reached"}


def simulate(store, label_config: LabelConfig, *, oracle: str, annotators: int = SIMULATED_ANNOTATORS,
             kappa: float | None = SIMULATED_KAPPA, temperature: float | None = None,
             position_bias: float = SIMULATED_POSITION_BIAS, max_labels: int | None = None,
             seed: int = 0, score_cache: str | Path | None = None) -> dict:
    """:func:`simulate_labels` with an optional on-disk cache of the oracle's scores (the CLI keeps one in the run's
    label folder)."""
    _check_arguments(annotators, kappa, temperature, position_bias, max_labels)
    records = imported_tasks(store)
    if not records:
        raise EmpathicError(f"{store.url}: no tasks imported; run `empathic label import` first")
    scores = OracleScores(oracle, score_cache)
    pool = scores.scores(list(records.values()))
    from_kappa = temperature is None
    temperature, sample = choose_temperature(pool, kappa, temperature, position_bias, seed)
    noisy = NoisyAnnotator(temperature, position_bias)
    kind, names = annotator_kind(oracle), annotator_names(oracle, annotators)
    ids = ensure_annotators(store, names, kind)
    print(f"simulate: {annotators} annotators ({kind}), temperature {temperature:.4g} "
          f"(expected kappa {expected_kappa(noisy, sample):.3f}), position bias {position_bias}", flush=True)
    run = label_until_done(store, label_config, dict(zip(ids, names)), scores, noisy, kind=kind,
                           max_labels=max_labels, seed=seed)
    return {"oracle": oracle, "kind": kind, "annotators": names, "temperature": round(temperature, 6),
            "temperature_from": "kappa" if from_kappa else "given", "kappa_target": kappa if from_kappa else None, "expected_kappa": round(expected_kappa(noisy, sample), 4),
            "position_bias": position_bias, "tasks": len(records), **run, "agreement": measured_agreement(store, kind)}


def simulate_labels(store, label_config: LabelConfig, *, oracle: str, annotators: int = SIMULATED_ANNOTATORS,
                    kappa: float | None = SIMULATED_KAPPA, temperature: float | None = None,
                    position_bias: float = SIMULATED_POSITION_BIAS, max_labels: int | None = None,
                    seed: int = 0) -> dict:
    """Let ``annotators`` simulated annotators (kind ``synthetic:<oracle>``) label the store's tasks until none is
    left or ``max_labels`` of their labels are in the database (a total, so a rerun after a kill stops where an
    uninterrupted run would). ``temperature`` overrides ``kappa``. Returns the summary: labels, the temperature,
    the agreement expected and the agreement measured on tasks labelled more than once."""
    return simulate(store, label_config, oracle=oracle, annotators=annotators, kappa=kappa, temperature=temperature,
                    position_bias=position_bias, max_labels=max_labels, seed=seed)


def measured_agreement(store, kind: str) -> dict:
    """The admin page's agreement numbers (label/progress.py), among annotators of ``kind`` only."""
    from .progress import stats

    block = stats(store)["by_kind"].get(kind)
    return block["agreement"] if block else {"overlapping_tasks": 0}


def format_summary(summary: dict) -> str:
    ag = summary["agreement"]
    fleiss = (ag.get("fleiss") or {}).get("kappa")
    cohen = [c["kappa"] for c in ag.get("cohen", []) if c["kappa"] is not None]
    target = "" if summary["temperature_from"] == "given" else f"target kappa {summary['kappa_target']}, "
    return (f"simulated {summary['labels_added']} labels ({summary['labels_total']} by {summary['kind']} in all; "
            f"{summary['stopped']})\n"
            f"temperature {summary['temperature']:.4g} ({target}expected {summary['expected_kappa']}), "
            f"position bias {summary['position_bias']}\n"
            f"measured on {ag.get('overlapping_tasks', 0)} tasks labelled 2+ times: Fleiss kappa "
            f"{'-' if fleiss is None else fleiss}, mean Cohen kappa over {len(cohen)} pairs "
            f"{'-' if not cohen else round(sum(cohen) / len(cohen), 4)}")
