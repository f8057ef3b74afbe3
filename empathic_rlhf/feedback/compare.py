"""Model comparison (ACUTE-Eval style): pairwise tasks from two models' replies to the same contexts, labelled in
the same app, and a report per criterion: win rate with ties excluded, n, two-sided binomial p, Wilson 95% CI.

"overall" is the annotator's choice of the better reply (tie and "all bad" count as ties); each rating criterion
compares the two replies' 1-5 ratings on the same label (comparison tasks ask for ratings of both replies).
"""

from __future__ import annotations

from collections import defaultdict

from ..errors import EmpathicError, located
from ..io import read_jsonl, write_jsonl
from .config import CRITERIA
from .stats import binom_p, wilson

ROLE_OF = {"user": "speaker", "assistant": "listener"}


def _samples(path) -> dict[str, dict]:
    out = {}
    for line, rec in read_jsonl(path):
        if not all(k in rec for k in ("sample_id", "prompt", "completion")):
            raise located(path, line, "expected a Sample record with sample_id, prompt and completion")
        out[rec["sample_id"]] = rec
    return out


def build_tasks(a_path, b_path, out_path, name_a: str, name_b: str) -> int:
    """Write one model-comparison Task per sample_id present in both files (same context, two replies)."""
    if name_a == name_b:
        raise EmpathicError("the two models need different names")
    a, b = _samples(a_path), _samples(b_path)
    common = [sid for sid in a if sid in b]
    if not common:
        raise EmpathicError(f"{a_path} and {b_path} share no sample_id: they must reply to the same contexts")
    tasks = []
    for sid in common:
        ra, rb = a[sid], b[sid]
        if [m for m in ra["prompt"] if m["role"] != "system"] != [m for m in rb["prompt"] if m["role"] != "system"]:
            raise EmpathicError(f"sample {sid!r}: the two files have different contexts")
        tasks.append({
            "task_id": f"cmp:{name_a}:{name_b}:{sid}", "kind": "model-comparison", "conv_id": ra.get("conv_id"),
            "emotion": ra.get("emotion"), "situation": ra.get("situation"),
            "history": [{"role": ROLE_OF[m["role"]], "text": m["content"]} for m in ra["prompt"]
                        if m["role"] in ROLE_OF],
            "candidates": [{"cand_id": "A", "text": ra["completion"][0]["content"], "source": name_a},
                           {"cand_id": "B", "text": rb["completion"][0]["content"], "source": name_b}],
            "sampling": {"compare": [name_a, name_b], "sample_id": sid},
        })
    return write_jsonl(out_path, tasks)


def tally(labels: list[tuple[dict, str, str | None, dict]]) -> dict:
    """``labels``: (task record, outcome, best, ratings). Returns {(model_a, model_b): {criterion: [wa, wb, ties]}}
    with the two model names in sorted order."""
    out: dict = defaultdict(lambda: {c: [0, 0, 0] for c in ("overall", *CRITERIA)})
    for record, outcome, best, ratings in labels:
        if outcome == "skip":
            continue
        src = {c["cand_id"]: c.get("source", c["cand_id"]) for c in record["candidates"]}
        (ca, ma), (cb, mb) = sorted(src.items(), key=lambda kv: kv[1])
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
            ci = wilson(wa, n)
            rows.append({"model_a": ma, "model_b": mb, "criterion": crit, "wins_a": wa, "wins_b": wb, "ties": ties,
                         "n": n, "win_rate_a": wa / n if n else None, "p_value": binom_p(wa, n),
                         "ci95": list(ci) if ci else None})
    return rows


def report(store) -> list[dict]:
    from sqlalchemy import select

    from .models import Label, Task

    with store.tx() as s:
        rows = s.execute(select(Task.record, Label.outcome, Label.best, Label.ratings)
                         .join(Task, Task.id == Label.task_id).where(Task.kind == "model-comparison")).all()
    return summarise(tally([tuple(r) for r in rows]))


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
        lines.append(f"{r['model_a'] + ' vs ' + r['model_b']:<30} {r['criterion']:<10} {r['wins_a']:>6} "
                     f"{r['wins_b']:>6} {r['ties']:>5} {r['n']:>5} {rate:>7} {p:>8} {ci:>17}")
    return "\n".join(lines)
