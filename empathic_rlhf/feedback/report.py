"""What the admin page and ``empathic label report`` show: progress, speed, gold accuracy, agreement, and
position bias. One read of the labels table; all arithmetic in Python (label counts are small)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from . import agreement
from .stats import binom_p


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)  # SQLite hands back naive UTC datetimes


def stats(store) -> dict:
    from sqlalchemy import func, select

    from .models import Annotator, Label, Task

    with store.tx() as s:
        rows = s.execute(select(Label.outcome, Label.best, Label.shown_order, Label.seconds, Label.created_at,
                                Annotator.name, Task.task_id, Task.record, Task.gold_best)
                         .join(Annotator, Annotator.id == Label.annotator_id)
                         .join(Task, Task.id == Label.task_id).order_by(Label.id)).all()
        names = list(s.scalars(select(Annotator.name).order_by(Annotator.id)))
        n_tasks, slots, free, n_gold = s.execute(select(
            func.count(Task.id), func.coalesce(func.sum(Task.quota), 0), func.coalesce(func.sum(Task.remaining), 0),
            func.count(Task.gold_best))).one()
    hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    per = {n: {"annotator": n, "labels": 0, "skips": 0, "last_hour": 0, "seconds": [], "gold_n": 0, "gold_ok": 0}
           for n in names}
    judgements: dict[str, dict[str, str]] = defaultdict(dict)
    first_wins = first_n = expected = 0.0
    labelled_per_task: dict[str, int] = defaultdict(int)
    for outcome, best, order, seconds, created, name, task_id, record, gold in rows:
        p = per[name]
        p["labels"] += 1
        p["skips"] += outcome == "skip"
        p["last_hour"] += _aware(created) >= hour_ago
        p["seconds"].append(seconds)
        if gold is not None and outcome != "skip":
            p["gold_n"] += 1
            p["gold_ok"] += best == gold
        if gold is None and outcome != "skip":
            labelled_per_task[task_id] += 1
            judgements[task_id][name] = agreement.code(outcome, best, [c["cand_id"] for c in record["candidates"]])
        if outcome == "best":
            first_n += 1
            first_wins += best == order[0]
            expected += 1 / len(order)
    annotators = []
    for p in per.values():
        secs = p.pop("seconds")
        p["median_seconds"] = round(statistics.median(secs), 2) if secs else None
        p["labels_per_hour"] = round(3600 / statistics.mean(secs), 1) if secs and statistics.mean(secs) > 0 else None
        p["gold_accuracy"] = round(p["gold_ok"] / p["gold_n"], 4) if p["gold_n"] else None
        annotators.append(p)
    all_secs = [r[3] for r in rows]
    overlapped = {t: v for t, v in judgements.items() if len(v) >= 2}
    return {
        "overall": {"tasks": n_tasks - n_gold, "gold_tasks": n_gold, "slots": slots, "slots_filled": slots - free,
                    "labels": len(rows),
                    "labels_last_hour": sum(p["last_hour"] for p in annotators),
                    "median_seconds": round(statistics.median(all_secs), 2) if all_secs else None},
        "annotators": annotators,
        "agreement": {"overlapping_tasks": len(overlapped), "cohen": agreement.cohen_pairs(overlapped),
                      "fleiss": agreement.fleiss(overlapped), "krippendorff": agreement.kripp_alpha(overlapped)},
        "position_bias": {
            "best_labels": int(first_n), "first_shown_wins": int(first_wins),
            "rate": round(first_wins / first_n, 4) if first_n else None,
            "expected": round(expected / first_n, 4) if first_n else None,
            # exact test against the average chance rate 1/k (k may vary per task, so this is approximate)
            "p_value": binom_p(int(first_wins), int(first_n), expected / first_n) if first_n else None},
    }


def format_stats(st: dict) -> str:
    o = st["overall"]
    lines = [f"labels {o['labels']}  slots {o['slots_filled']}/{o['slots']}  tasks {o['tasks']} "
             f"(+{o['gold_tasks']} gold)  median {o['median_seconds']} s/label", "",
             f"{'annotator':<20} {'labels':>6} {'skips':>5} {'last h':>6} {'med s':>6} {'/hour':>6} {'gold acc':>8}"]
    for p in st["annotators"]:
        lines.append(f"{p['annotator']:<20} {p['labels']:>6} {p['skips']:>5} {p['last_hour']:>6} "
                     f"{_fmt(p['median_seconds']):>6} {_fmt(p['labels_per_hour']):>6} {_fmt(p['gold_accuracy']):>8}")
    ag = st["agreement"]
    lines += ["", f"agreement on {ag['overlapping_tasks']} overlapping tasks: Fleiss kappa {_fmt(ag['fleiss']['kappa'])}"
              f" ({ag['fleiss']['raters']} raters x {ag['fleiss']['tasks']} tasks), Krippendorff alpha "
              f"{_fmt(ag['krippendorff']['alpha'])}"]
    lines += [f"  Cohen kappa {c['a']} / {c['b']}: {_fmt(c['kappa'])} on {c['n']} tasks" for c in ag["cohen"]]
    pb = st["position_bias"]
    lines += ["", f"position bias: first shown wins {pb['first_shown_wins']}/{pb['best_labels']} "
              f"(rate {_fmt(pb['rate'])}, chance {_fmt(pb['expected'])}, p {_fmt(pb['p_value'])})"]
    return "\n".join(lines)


def _fmt(x) -> str:
    return "-" if x is None else (f"{x:.3g}" if isinstance(x, float) else str(x))
