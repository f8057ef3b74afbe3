"""Model comparison (ACUTE-Eval style): pairwise tasks built from an evaluation (``<run>/evaluate/samples.jsonl``:
every model's reply to the same test contexts), each model against a baseline (π, ``sft``), the two replies in a
seeded random order; labelled in the same app; and a report per model pair and criterion: win rate with ties
excluded, n, two-sided binomial p, Wilson 95% CI.

"overall" is the annotator's choice of the better reply (tie and "all bad" count as ties); each rating criterion
compares the two replies' 1-5 ratings on the same label (comparison tasks ask for ratings of both replies).
"""

from __future__ import annotations

import random
from collections import defaultdict

from pydantic import BaseModel, ConfigDict, Field

from ..errors import EmpathicError, located
from ..io import read_jsonl
from ..records import Candidate, EdRole, Id, Message, Task, display_history, parse_record, write_records
from .config import CRITERIA
from ..stats import binomial_p, proportion_ci
from .text import for_terminal, neutralise


class EvaluationRow(BaseModel):
    """One line of ``evaluate/samples.jsonl`` (the fields read here; others, e.g. ``all_replies``, are ignored)."""

    model_config = ConfigDict(strict=True, extra="ignore")
    sample_id: Id
    conv_id: str | None = None
    emotion: str | None = None
    situation: str | None = None
    reply_role: EdRole = "listener"
    prompt: list[Message] = Field(min_length=1)
    gold: str | None = None
    replies: dict[str, str]


def build_tasks(evaluation, out_path, baseline: str = "sft", models: list[str] | None = None, seed: int = 0) -> int:
    """Write one model-comparison Task per (context, model other than the baseline): the model's reply against
    the baseline's, as candidates A/B in an order drawn from ``seed`` (position bias averages out). ``gold`` may
    be named among ``models`` to compare the dataset's own reply with the baseline."""
    rows = [parse_record(EvaluationRow, rec, evaluation, line) for line, rec in read_jsonl(evaluation)]
    if not rows:
        raise EmpathicError(f"{evaluation}: no samples")
    names = sorted(rows[0].replies) + (["gold"] if rows[0].gold is not None else [])
    if baseline not in rows[0].replies:
        raise EmpathicError(f"{evaluation}: no replies of baseline {baseline!r}; models there: {names}")
    chosen = models or [m for m in sorted(rows[0].replies) if m != baseline]
    unknown = [m for m in chosen if m not in names or m == baseline]
    if unknown or not chosen:
        raise EmpathicError(f"models to compare with {baseline!r}: {unknown or 'none'} not among {names}")
    tasks = []
    for line, row in enumerate(rows, start=1):
        for model in chosen:
            reply = row.gold if model == "gold" else row.replies.get(model)
            if reply is None or baseline not in row.replies:
                raise located(evaluation, line, f"no reply of {model if reply is None else baseline!r}")
            pair = [(model, reply), (baseline, row.replies[baseline])]
            random.Random(f"{seed}:{row.sample_id}:{model}").shuffle(pair)
            tasks.append(Task(
                task_id=f"cmp:{model}:{baseline}:{row.sample_id}", kind="model-comparison", conv_id=row.conv_id,
                emotion=row.emotion, situation=row.situation, prompt=row.prompt,
                history=display_history(row.prompt, row.reply_role), gold=row.gold,
                candidates=[Candidate(cand_id=cid, text=text, source=name) for cid, (name, text) in zip("AB", pair)],
                sampling={"compare": [model, baseline], "sample_id": row.sample_id, "seed": seed}))
    return write_records(out_path, tasks)



def tally(labels: list[tuple[dict, str, str | None, dict]]) -> dict:
    """``labels``: (task record, outcome, best, ratings). Returns {(model_a, model_b): {criterion: [wa, wb, ties]}}:
    the compared model first and the baseline second (the task's ``sampling.compare``), else in sorted order.
    Tasks that are not a pair of two models (imports now refuse them) are left out."""
    out: dict = defaultdict(lambda: {c: [0, 0, 0] for c in ("overall", *CRITERIA)})
    for record, outcome, best, ratings in labels:
        if outcome == "skip":
            continue
        # model names come from the task file: no bidi controls (they would reorder the admin's table)
        by_model = {neutralise(c.get("source") or c["cand_id"]): c["cand_id"] for c in record["candidates"]}
        if len(record["candidates"]) != 2 or len(by_model) != 2:
            continue
        named = (record.get("sampling") or {}).get("compare")
        named = [neutralise(str(m)) for m in named] if isinstance(named, list) else None
        ma, mb = named if isinstance(named, list) and sorted(named) == sorted(by_model) else sorted(by_model)
        ca, cb = by_model[ma], by_model[mb]
        counts = out[(ma, mb)]
        counts["overall"][0 if best == ca else 1 if best == cb else 2] += 1
        for crit in CRITERIA:
            ra, rb = ratings.get(ca, {}).get(crit), ratings.get(cb, {}).get(crit)
            if ra is not None and rb is not None:
                counts[crit][0 if ra > rb else 1 if rb > ra else 2] += 1
    return dict(out)


def summarise(counts: dict) -> list[dict]:
    rows = []
    for (ma, mb), per in sorted(counts.items()):
        for crit, (wa, wb, ties) in per.items():
            n = wa + wb
            ci = proportion_ci(wa, n)
            rows.append({"model_a": ma, "model_b": mb, "criterion": crit, "wins_a": wa, "wins_b": wb, "ties": ties,
                         "n": n, "win_rate_a": ci["rate"], "p_value": binomial_p(wa, n),
                         "ci95": [ci["lo"], ci["hi"]] if n else None})
    return rows


def report(store) -> list[dict]:
    """The rows of every kind of annotator apart (``source``: people's first, then each simulated oracle's), so a
    simulated verdict is never pooled with people's."""
    from sqlalchemy import select

    from .models import Annotator, Label, Task

    with store.read() as s:
        rows = s.execute(select(Task.record, Label.outcome, Label.best, Label.ratings, Annotator.kind)
                         .join(Task, Task.id == Label.task_id).join(Annotator, Annotator.id == Label.annotator_id)
                         .where(Task.kind == "model-comparison")).all()
    by_kind = defaultdict(list)
    for record, outcome, best, ratings, kind in rows:
        by_kind[kind].append((record, outcome, best, ratings))
    kinds = sorted(by_kind, key=lambda k: (k != "human", k))
    return [{**row, "source": kind} for kind in kinds for row in summarise(tally(by_kind[kind]))]


def format_report(rows: list[dict]) -> str:
    if not rows:
        return "no model-comparison labels yet"
    head = f"{'A vs B':<30} {'criterion':<10} {'A wins':>6} {'B wins':>6} {'ties':>5} {'n':>5} {'A rate':>7} " \
           f"{'p':>8} {'95% CI (Wilson)':>17}"
    lines = [head]
    for r in rows:
        rate = "-" if r["win_rate_a"] is None else f"{r['win_rate_a']:.3f}"
        p = "-" if r["p_value"] is None else f"{r['p_value']:.3g}"
        ci = "-" if r["ci95"] is None else f"[{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]"
        pair = for_terminal(r["model_a"] + " vs " + r["model_b"]
                            + ("" if r["source"] == "human" else f" [{r['source']}]"))
        lines.append(f"{pair:<30} {r['criterion']:<10} {r['wins_a']:>6} "
                     f"{r['wins_b']:>6} {r['ties']:>5} {r['n']:>5} {rate:>7} {p:>8} {ci:>17}")
    return "\n".join(lines)
