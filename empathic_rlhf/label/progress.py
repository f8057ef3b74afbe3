"""What the admin page and ``empathic label report`` show: progress, speed, gold accuracy, agreement, and
position bias. One read of the labels table; all arithmetic in Python (label counts are small).

People and simulated annotators (``Annotator.kind``: ``human`` / ``synthetic:<oracle>``, label/simulate.py) are
never pooled: agreement and position bias are computed within each kind (``by_kind``), and the top-level
``agreement``, ``agreement_curve`` and ``position_bias`` are the people's alone."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from . import agreement
from ..stats import binomial_p


def stats(store) -> dict:
    """Every number of the admin page. Profiled at 5-10k labels, the time went to decoding JSON per label (the
    task record, then the shown order) and to per-row datetime work: now the labels are read as plain columns (the
    first shown cand_id and the number of candidates are extracted by the database), candidate lists are read
    only for overlapping tasks, and hours are counted as integer keys."""
    rows, names, (n_tasks, slots, free, n_gold), cand_ids = _read(store)
    per, judgements, bias, hourly = _tally(rows, names, cand_ids)
    annotators = [_annotator_row(p) for p in per.values()]
    all_secs = [r.seconds for r in rows]
    labels_by_kind = defaultdict(int)
    for r in rows:
        labels_by_kind[r.kind] += 1
    by_kind = {kind: {"labels": n, "annotators": sum(p["kind"] == kind for p in annotators),
                      "agreement": agreement_block(judgements[kind]), "position_bias": position_bias(*bias[kind])}
               for kind, n in sorted(labels_by_kind.items())}
    human = by_kind.get("human") or {"agreement": agreement_block({}), "position_bias": position_bias(0, 0, 0.0)}
    return {
        "overall": {"tasks": n_tasks - n_gold, "gold_tasks": n_gold, "slots": slots, "slots_filled": slots - free,
                    "labels": len(rows), "labels_by_kind": dict(sorted(labels_by_kind.items())),
                    "labels_last_hour": sum(p["last_hour"] for p in annotators),
                    "median_seconds": round(statistics.median(all_secs), 2) if all_secs else None},
        "annotators": annotators,
        "per_hour": [{"hour": "%04d-%02d-%02dT%02d:00" % h, "labels": n} for h, n in sorted(hourly.items())][-48:],
        "agreement_curve": agreement_curve(judgements["human"]),
        "agreement": human["agreement"],  # people only; simulated annotators' in by_kind
        "position_bias": human["position_bias"],
        "by_kind": by_kind,
    }


def _read(store):
    """One read transaction: every label as plain columns (in order), the annotators, task totals (tasks, slots,
    free slots, gold tasks) and the candidate ids of the tasks two or more people labelled."""
    from sqlalchemy import func, select

    from .models import Annotator, Label, Task

    with store.read() as session:
        rows = session.execute(select(Label.outcome, Label.best, Label.shown_order[0].as_string(),
                                      func.json_array_length(Label.shown_order), Label.seconds, Label.created_at,
                                      Annotator.name, Task.task_id, Task.gold_best, Annotator.kind)
                               .join(Annotator, Annotator.id == Label.annotator_id)
                               .join(Task, Task.id == Label.task_id).order_by(Label.id)).all()
        names = session.execute(select(Annotator.name, Annotator.kind).order_by(Annotator.id)).all()
        totals = session.execute(select(
            func.count(Task.id), func.coalesce(func.sum(Task.quota), 0), func.coalesce(func.sum(Task.remaining), 0),
            func.count(Task.gold_best))).one()
        per_task = defaultdict(int)
        for r in rows:
            per_task[r.task_id] += r.gold_best is None and r.outcome != "skip"
        overlapping = [t for t, n in per_task.items() if n >= 2]
        cand_ids = {}
        for start in range(0, len(overlapping), 500):
            chunk = overlapping[start:start + 500]
            cand_ids.update((t, [c["cand_id"] for c in record["candidates"]]) for t, record in
                            session.execute(select(Task.task_id, Task.record).where(Task.task_id.in_(chunk))).all())
    return rows, names, totals, cand_ids


def _tally(rows, names, cand_ids):
    """Per annotator counts, every judgement of an overlapping task (kind -> task -> name -> code), position-bias
    counts per kind ([first shown wins, best labels, expected wins]) and labels per hour."""
    hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    hour_ago_naive = hour_ago.replace(tzinfo=None)  # SQLite hands back naive UTC datetimes
    per = {n: {"annotator": n, "kind": kind, "labels": 0, "skips": 0, "last_hour": 0, "seconds": [], "gold_n": 0,
               "gold_ok": 0} for n, kind in names}
    judgements: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))  # kind, task, name
    bias = defaultdict(lambda: [0, 0, 0.0])  # kind -> [first shown wins, best labels, expected wins]
    hourly: dict[tuple, int] = defaultdict(int)
    for outcome, best, first_shown, k, seconds, created, name, task_id, gold, kind in rows:
        hourly[created.year, created.month, created.day, created.hour] += 1
        p = per[name]
        p["labels"] += 1
        p["skips"] += outcome == "skip"
        p["last_hour"] += created >= (hour_ago if created.tzinfo else hour_ago_naive)
        p["seconds"].append(seconds)
        if gold is not None and outcome != "skip":
            p["gold_n"] += 1
            p["gold_ok"] += best == gold
        if gold is None and outcome != "skip" and task_id in cand_ids:
            judgements[kind][task_id][name] = agreement.code(outcome, best, cand_ids[task_id])
        if outcome == "best":
            bias[kind][0] += best == first_shown
            bias[kind][1] += 1
            bias[kind][2] += 1 / k
    return per, judgements, bias, hourly


def _annotator_row(p: dict) -> dict:
    """An annotator's row of the admin table: their label times summarised."""
    secs = p.pop("seconds")
    p["median_seconds"] = round(statistics.median(secs), 2) if secs else None
    p["labels_per_hour"] = round(3600 / statistics.mean(secs), 1) if secs and statistics.mean(secs) > 0 else None
    p["gold_accuracy"] = round(p["gold_ok"] / p["gold_n"], 4) if p["gold_n"] else None
    return p


def agreement_block(judgements: dict[str, dict[str, str]]) -> dict:
    overlapped = {t: v for t, v in judgements.items() if len(v) >= 2}
    return {"overlapping_tasks": len(overlapped), "cohen": agreement.cohen_pairs(overlapped),
            "fleiss": agreement.fleiss(overlapped), "krippendorff": agreement.kripp_alpha(overlapped)}


def position_bias(first_wins: int, first_n: int, expected: float) -> dict:
    return {"best_labels": int(first_n), "first_shown_wins": int(first_wins),
            "rate": round(first_wins / first_n, 4) if first_n else None,
            "expected": round(expected / first_n, 4) if first_n else None,
            # exact test against the average chance rate 1/k (k may vary per task, so this is approximate)
            "p_value": binomial_p(int(first_wins), int(first_n), expected / first_n) if first_n else None}


def agreement_curve(judgements: dict[str, dict[str, str]], points: int = 8) -> list[dict]:
    """Krippendorff's alpha on the first 1/8, 2/8, ... of the overlapping tasks (in the order they were labelled):
    whether agreement settles as labels accrue."""
    tasks = list(judgements)  # insertion order = order of their first label
    if len(tasks) < 4:
        return []
    out = []
    for k in range(1, points + 1):
        part = {t: judgements[t] for t in tasks[:max(2, round(k * len(tasks) / points))]}
        out.append({"tasks": len(part), "alpha": agreement.kripp_alpha(part)["alpha"]})
    return out


def format_stats(st: dict) -> str:
    o = st["overall"]
    kinds = ", ".join(f"{kind} {n}" for kind, n in o["labels_by_kind"].items())
    lines = [f"labels {o['labels']} ({kinds or 'none yet'})  slots {o['slots_filled']}/{o['slots']}  tasks {o['tasks']} "
             f"(+{o['gold_tasks']} gold)  median {o['median_seconds']} s/label", "",
             f"{'annotator':<20} {'labels':>6} {'skips':>5} {'last h':>6} {'med s':>6} {'/hour':>6} {'gold acc':>8}"]
    for p in st["annotators"]:
        tag = "" if p["kind"] == "human" else f"  [{p['kind']}]"
        lines.append(f"{p['annotator']:<20} {p['labels']:>6} {p['skips']:>5} {p['last_hour']:>6} "
                     f"{_fmt(p['median_seconds']):>6} {_fmt(p['labels_per_hour']):>6} {_fmt(p['gold_accuracy']):>8}{tag}")
    shown = {"human": {"agreement": st["agreement"], "position_bias": st["position_bias"]}, **st["by_kind"]}
    for kind, block in shown.items():  # people first, then each simulated kind: never pooled
        lines += _kind_lines(kind, block["agreement"], block["position_bias"])
    return "\n".join(lines)


def _kind_lines(kind: str, ag: dict, pb: dict) -> list[str]:
    lines = ["", f"{kind} agreement on {ag['overlapping_tasks']} overlapping tasks: Fleiss kappa "
             f"{_fmt(ag['fleiss']['kappa'])} ({ag['fleiss']['raters']} raters x {ag['fleiss']['tasks']} tasks), "
             f"Krippendorff alpha {_fmt(ag['krippendorff']['alpha'])}"]
    lines += [f"  Cohen kappa {c['a']} / {c['b']}: {_fmt(c['kappa'])} on {c['n']} tasks" for c in ag["cohen"]]
    lines += [f"{kind} position bias: first shown wins {pb['first_shown_wins']}/{pb['best_labels']} "
              f"(rate {_fmt(pb['rate'])}, chance {_fmt(pb['expected'])}, p {_fmt(pb['p_value'])})"]
    return lines


def _fmt(x) -> str:
    return "-" if x is None else (f"{x:.3g}" if isinstance(x, float) else str(x))
