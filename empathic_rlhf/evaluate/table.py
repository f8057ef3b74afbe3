"""The evaluation table: every metric of every model with its 95% interval, and paired differences vs π.

``table.json``::

    {rows: [{model, path, metrics: {name: {mean, lo, hi, n}}}],          # the gold replies are the last row
     vs_baseline: {model: {name: {diff, lo, hi, p, mde?, n}}}, baseline, n_contexts, ...}

Per-context metrics (every score column and the length) use the mean over contexts with a bootstrap interval and
a paired t-test; corpus metrics (perplexity, BLEU, distinct-n) are recomputed on the same bootstrap resamples of
the contexts for every model (see :mod:`empathic_rlhf.stats`).
"""

from __future__ import annotations

import math

import numpy as np

from ..stats import mean_ci, paired_difference, paired_statistic, statistic_ci
from .columns import EMPATHY_COLUMNS, HACKING_COLUMNS, JUDGE_COLUMNS, REWARD_COLUMNS
from .reply_metrics import bleu_of, distinct_of

CORPUS = ("perplexity", "bleu", "distinct_1", "distinct_2")
ORDER = (*JUDGE_COLUMNS, *EMPATHY_COLUMNS, *REWARD_COLUMNS, *CORPUS, "length", *HACKING_COLUMNS)
HIGHER_IS_BETTER = {"perplexity": False, "stock": False, "near_copy": False}  # others: higher is better
NEITHER = ("length", "question")  # a change is shown, not marked better or worse
BOUNDS = {"bleu": (0.0, 100.0), "distinct_1": (0.0, 1.0), "distinct_2": (0.0, 1.0), "perplexity": (1.0, math.inf)}
# Rashkin et al. 2019, "Towards Empathetic Open-domain Conversation Models", Table 2 (generative models).
ED_PAPER = [
    {"model": "ED paper: pretrained generative", "perplexity": 27.96, "bleu": 4.3},
    {"model": "ED paper: fine-tuned generative", "perplexity": 21.24, "bleu": 6.27},
]


def corpus_statistics(result: dict, n: int) -> dict:
    """``{metric: statistic(context indices) -> value}`` for the corpus metrics this result can give."""
    owner = result["owner"]
    context_bleu = np.zeros((n, result["bleu"].shape[1]), dtype=np.int64)
    np.add.at(context_bleu, owner, result["bleu"])
    stats = {} if result.get("reference") else {"bleu": lambda idx: bleu_of(context_bleu[idx])}
    for k in (1, 2):
        grams = [[] for _ in range(n)]
        for reply_index, context in enumerate(owner):
            grams[context].extend(result["grams"][k][reply_index])
        stats[f"distinct_{k}"] = lambda idx, grams=grams: distinct_of([grams[i] for i in idx])
    if "nll" in result:
        nll, tokens = result["nll"], result["tokens"]
        stats["perplexity"] = lambda idx: math.exp(nll[idx].sum() / max(1, tokens[idx].sum()))
    return stats


def build_table(results: dict[str, dict], *, baseline: str, n_contexts: int, seed: int = 0,
                resamples: int = 1000) -> dict:
    """Rows with intervals and paired comparisons against ``baseline`` (the first model when it is absent)."""
    n = n_contexts
    corpus = {model: corpus_statistics(r, n) for model, r in results.items()}
    rows = []
    for model, r in results.items():
        metrics = {name: mean_ci(values, resamples=resamples, seed=seed) for name, values in r["values"].items()}
        metrics.update({name: statistic_ci(fn, n, resamples=resamples, seed=seed, bounds=BOUNDS[name])
                        for name, fn in corpus[model].items()})
        rows.append({"model": model, "path": r.get("path"), "metrics": metrics})
    base = baseline if baseline in results else next(iter(results))
    comparisons = {}
    for model, r in results.items():
        if model == base:
            continue
        diff = {name: paired_difference(results[base]["values"][name], values, resamples=resamples, seed=seed)
                for name, values in r["values"].items() if name in results[base]["values"]}
        diff.update({name: paired_statistic(corpus[base][name], fn, n, resamples=resamples, seed=seed)
                     for name, fn in corpus[model].items() if name in corpus[base]})
        comparisons[model] = diff
    return {"rows": rows, "vs_baseline": comparisons, "baseline": base, "n_contexts": n, "seed": seed,
            "resamples": resamples, "ed_paper": ED_PAPER}


def _columns(table: dict) -> list[str]:
    present = {name for row in table["rows"] for name in row["metrics"]}
    return [c for c in ORDER if c in present]


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if abs(value) < 1000 else f"{value:,.0f}"


def _interval(m: dict) -> str:
    if m.get("mean") is None:
        return "–"
    if m.get("lo") is None:
        return _fmt(m["mean"])
    return f"{_fmt(m['mean'])} [{_fmt(m['lo'])}, {_fmt(m['hi'])}]"


def _difference(d: dict, name: str) -> str:
    if d.get("diff") is None:
        return "–"
    better = d["diff"] > 0 if HIGHER_IS_BETTER.get(name, True) else d["diff"] < 0
    mark = ("▲" if better else "▼") if d["p"] is not None and d["p"] < 0.05 and name not in NEITHER else ""
    p = "<0.001" if d["p"] is not None and d["p"] < 0.001 else _fmt(d["p"])
    return f"{d['diff']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}] p={p}{mark}"


def markdown_table(table: dict) -> str:
    """Two tables: every metric with its 95% interval; every model minus the baseline, paired."""
    columns = _columns(table)
    replies = table.get("replies_per_context", 1)
    lines = [f"Split `{table.get('split')}`, {table['n_contexts']} contexts, {replies} "
             f"repl{'y' if replies == 1 else 'ies'} per context, decoding {table.get('decoding')}. Means with 95% "
             "bootstrap intervals "
             f"({table['resamples']} resamples over contexts, seed {table['seed']}).", "",
             "| model | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for row in table["rows"]:
        cells = [_interval(row["metrics"][c]) if c in row["metrics"] else "–" for c in columns]
        lines.append(f"| {row['model']} | " + " | ".join(cells) + " |")
    if table["vs_baseline"]:
        lines += ["", f"Paired on the same contexts, model − {table['baseline']}: difference [95% CI] and p-value "
                  "(▲/▼: better/worse with p < 0.05). `mde`: the smallest difference this many contexts would "
                  "detect (80% power).", "", "| model | " + " | ".join(columns) + " |",
                  "|---|" + "---:|" * len(columns)]
        for model, diffs in table["vs_baseline"].items():
            cells = [_difference(diffs[c], c) if c in diffs else "–" for c in columns]
            lines.append(f"| {model} | " + " | ".join(cells) + " |")
        first = next((d for m, d in table["vs_baseline"].items() if m != "gold"),
                     next(iter(table["vs_baseline"].values())))
        mdes = [f"{c} {first[c]['mde']:.3f}" for c in columns if first.get(c, {}).get("mde") is not None]
        if mdes:
            lines += ["", "Minimal detectable effect (80% power, α 0.05): " + ", ".join(mdes) + "."]
    lines += ["", "Reference points (Rashkin et al. 2019, Table 2; other models and tokenizers, orientation only):",
              "", "| model | perplexity | bleu |", "|---|---:|---:|"]
    lines += [f"| {r['model']} | {r['perplexity']} | {r['bleu']} |" for r in table["ed_paper"]]
    return "\n".join(lines) + "\n"
