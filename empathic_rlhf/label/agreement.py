"""Agreement between annotators on tasks labelled more than once, with maintained libraries doing the maths:
Cohen's and Fleiss' kappa from statsmodels, Krippendorff's alpha from ``krippendorff``.

A judgement is coded as a category per task: the chosen candidate's index in the task record (so "the first
imported candidate" means the same thing on every task), or ``tie`` / ``all_bad``. Skips are no judgement.
"""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import combinations


def _finite(x) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else round(float(x), 4)


def code(outcome: str, best: str | None, cand_ids: list[str]) -> str | None:
    if outcome == "skip":
        return None
    return f"c{cand_ids.index(best)}" if outcome == "best" else outcome


def cohen_pairs(judgements: dict[str, dict[str, str]]) -> list[dict]:
    """Cohen's kappa for every annotator pair with at least 2 tasks in common.
    ``judgements``: task -> annotator -> category."""
    import numpy as np
    from statsmodels.stats.inter_rater import cohens_kappa, to_table

    by_pair = defaultdict(list)
    for per_task in judgements.values():
        for a, b in combinations(sorted(per_task), 2):
            by_pair[(a, b)].append((per_task[a], per_task[b]))
    cats = sorted({c for per_task in judgements.values() for c in per_task.values()})
    index = {c: i for i, c in enumerate(cats)}
    out = []
    for (a, b), rows in sorted(by_pair.items()):
        if len(rows) < 2:
            continue
        data = np.array([[index[x], index[y]] for x, y in rows])
        table = to_table(data, bins=np.arange(len(cats) + 1))[0]
        agree = float(np.trace(table) / table.sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            kappa = cohens_kappa(table, return_results=False)
        out.append({"a": a, "b": b, "n": len(rows), "agreement": round(agree, 4), "kappa": _finite(kappa)})
    return out


def fleiss(judgements: dict[str, dict[str, str]]) -> dict:
    """Fleiss' kappa needs the same number of raters m on every task: m is the most common overlap (at least 2);
    tasks with more labels use their first m."""
    import numpy as np
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    counts = [len(v) for v in judgements.values() if len(v) >= 2]
    if not counts:
        return {"kappa": None, "tasks": 0, "raters": 0}
    m = max(set(counts), key=lambda c: (counts.count(c), c))
    cats = sorted({c for per_task in judgements.values() for c in per_task.values()})
    rows = [[cats.index(c) for c in list(v.values())[:m]] for v in judgements.values() if len(v) >= m]
    table, _ = aggregate_raters(np.array(rows), n_cat=len(cats))
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = fleiss_kappa(table)
    return {"kappa": _finite(kappa), "tasks": len(rows), "raters": m}


def kripp_alpha(judgements: dict[str, dict[str, str]]) -> dict:
    """Nominal Krippendorff's alpha over all tasks with 2+ judgements; missing judgements are allowed."""
    import krippendorff
    import numpy as np

    tasks = [t for t, v in judgements.items() if len(v) >= 2]
    annotators = sorted({a for t in tasks for a in judgements[t]})
    cats = sorted({c for t in tasks for c in judgements[t].values()})
    if len(tasks) < 1 or len(cats) < 2:
        return {"alpha": None, "tasks": len(tasks)}
    row_of = {a: i for i, a in enumerate(annotators)}
    code_of = {c: i for i, c in enumerate(cats)}
    data = np.full((len(annotators), len(tasks)), np.nan)
    for j, t in enumerate(tasks):
        for a, c in judgements[t].items():
            data[row_of[a], j] = code_of[c]
    alpha = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    return {"alpha": _finite(alpha), "tasks": len(tasks)}
