"""Label efficiency: held-out accuracy of the cheap reward model vs number of labels, per acquisition rule.

    python benchmarks/label_efficiency.py [--seeds 3] [--batch 50] [--max-labels 1600] [--rules ...]
    python benchmarks/label_efficiency.py --design      # the feature / regularisation / bootstrap-weight choice
    python benchmarks/label_efficiency.py --kappa 0.7 --out variant_kappa07   # variants: --kappa 1 (noise-free),
    python benchmarks/label_efficiency.py --features tfidf --out variant_tfidf  # --features tfidf (headroom)
    python benchmarks/label_efficiency.py --oracle linear --out variant_linear  # a well-specified oracle

Data (read only): ``runs/results/sample/tasks.jsonl`` (900 valid-split contexts, 2 SmolLM2 replies + the gold reply
each) and ``runs/results/evaluate/samples.jsonl`` (300 test-split contexts; its 2 SFT + 2 RL replies + gold, any DPO replies left out). A pool
task is one pair of replies to one context (2-candidate tasks, as the app shows them): every pair of the valid
contexts and of half the test conversations; the held-out pairs are every pair of the other half of the test
conversations (disjoint conversations) whose oracle scores differ.

Oracle: the judge (``column_scorer("judged_empathy")``; ``--oracle empathy`` for the old composite). Annotators: ``NoisyAnnotator`` at Cohen's kappa ``--kappa``
(0.4; 1 = noise-free, the oracle's choice) with position bias 0.3, each task shown in a random order; one draw per (seed, task), shared by every rule, so
rules are compared on the same annotator noise. Each run starts from the gold-vs-policy bootstrap ensemble, buys
labels in batches of ``--batch`` by the rule (through the library's own scoring and diversity code), and after every
batch fits the evaluated model (one Bradley-Terry fit on all labels + weighted bootstrap pairs) and scores its
preference against the noise-free oracle on the held-out pairs. Results (per rule, seed and label count) are cached
in ``--work`` so a killed run resumes; the table, JSON and SVG plot go to ``benchmarks/results/``. The data (pool,
oracle, features, annotator draws) is built in ``label_efficiency_data.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.label_efficiency_data import (  # noqa: E402
    FEATURES, Bench, annotator_draws, bootstrap_pairs, build_bench, features, oracle_agreement, with_linear_oracle)

from empathic_rlhf.acquire.config import RULES  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
REPORTED = (100, 200, 400, 800, 1600)


def run_curve(bench: Bench, rule: str, seed: int, args, chosen_by: np.ndarray) -> dict[int, float]:
    """Held-out accuracy after every batch of labels bought by ``rule``: {labels: accuracy}."""
    from empathic_rlhf.acquire.diversity import diverse_top
    from empathic_rlhf.acquire.preference import CandidateTable, fit_bradley_terry, fit_ensemble, pair_accuracy
    from empathic_rlhf.acquire.rules import acquisition_scores

    rng = np.random.default_rng(seed)
    boot = bootstrap_pairs(bench)
    boot_diffs = features(bench, boot[:, 0], args.features) - features(bench, boot[:, 1], args.features)
    held_diffs = features(bench, bench.heldout[:, 0], args.features) - features(bench, bench.heldout[:, 1],
                                                                                 args.features)
    table = CandidateTable([features(bench, pair, args.features) for pair in bench.pool])
    contexts = bench.context_vectors[bench.reply_context[bench.pool[:, 0]]]
    labelled: list[int] = []
    curve: dict[int, float] = {}
    while True:
        if labelled:
            winners = chosen_by[labelled]
            losers = np.where(bench.pool[labelled, 0] == winners, bench.pool[labelled, 1], bench.pool[labelled, 0])
            label_diffs = features(bench, winners, args.features) - features(bench, losers, args.features)
            weight = args.bootstrap_weight
        else:
            label_diffs, weight = np.zeros((0, boot_diffs.shape[1])), 1.0
        diffs = np.concatenate([label_diffs, boot_diffs])
        weights = np.concatenate([np.ones(len(label_diffs)), np.full(len(boot_diffs), weight)])
        model = fit_bradley_terry(diffs, weights, args.l2)[None, :]
        curve[len(labelled)] = pair_accuracy(model, held_diffs)
        if len(labelled) >= args.max_labels:
            return curve
        open_tasks = np.setdiff1d(np.arange(len(bench.pool)), labelled)
        if rule == "random":
            probabilities = np.zeros((len(open_tasks), 1, 2))
        else:
            members = fit_ensemble(diffs, weights, args.l2, args.ensemble, rng)
            probabilities = table.choice_probabilities(members)[open_tasks]
        scores = acquisition_scores(rule, probabilities, rng)
        picked = diverse_top(scores, [bench.pool_groups[t] for t in open_tasks], contexts[open_tasks],
                             min(args.batch, args.max_labels - len(labelled)), max_per_group=args.max_per_conversation,
                             min_distance=args.min_distance)
        labelled.extend(int(open_tasks[i]) for i in picked)


def curves(bench: Bench, args, work: Path) -> dict[str, dict[int, dict[int, float]]]:
    """{rule: {seed: {labels: accuracy}}}, each (rule, seed) cached in ``work`` (a killed run resumes)."""
    tag = f"{args.features}-l2{args.l2}-bw{args.bootstrap_weight}-b{args.batch}-m{args.ensemble}-{args.max_labels}"
    if (args.kappa, args.position_bias) != (0.4, 0.3):  # the default annotators keep the older caches' names
        tag += f"-k{args.kappa}-pb{args.position_bias}"
    if args.oracle != "empathy":
        tag += f"-o{args.oracle}"
    out: dict = {rule: {} for rule in args.rules}
    for seed in range(args.seeds):
        draws = annotator_draws(bench, seed, args.kappa, args.position_bias)
        for rule in args.rules:
            path = work / "curves" / f"{tag}-{rule}-s{seed}.json"
            if not path.is_file():
                start = time.perf_counter()
                curve = run_curve(bench, rule, seed, args, draws)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(curve))
                print(f"  {rule:<8} seed {seed}: {time.perf_counter() - start:6.1f} s, accuracy at "
                      f"{args.max_labels} labels {curve[args.max_labels]:.3f}", file=sys.stderr, flush=True)
            out[rule][seed] = {int(n): acc for n, acc in json.loads(path.read_text()).items()}
    return out


def design(bench: Bench, args) -> str:
    """The choices behind the defaults: held-out accuracy of random labels (n = 200, 800; ``--seeds`` seeds) per
    feature kind, L2 strength and bootstrap weight, plus the ceilings (all pool labels, noisy and noise-free)."""
    from empathic_rlhf.acquire.preference import fit_bradley_terry, pair_accuracy

    boot = bootstrap_pairs(bench)
    oracle_winner = np.where(bench.oracle[bench.pool[:, 0]] >= bench.oracle[bench.pool[:, 1]], bench.pool[:, 0],
                             bench.pool[:, 1])
    draws = [annotator_draws(bench, seed, args.kappa, args.position_bias) for seed in range(args.seeds)]
    lines = ["| features | C (l2) | bootstrap weight | n=200 | n=800 | all pool, noisy | all pool, noise-free |",
             "|---|---|---|---|---|---|---|"]
    for kind in args.design_features:
        def diffs_of(winners, pool_rows):
            losers = np.where(bench.pool[pool_rows, 0] == winners, bench.pool[pool_rows, 1], bench.pool[pool_rows, 0])
            return features(bench, winners, kind) - features(bench, losers, kind)
        held = features(bench, bench.heldout[:, 0], kind) - features(bench, bench.heldout[:, 1], kind)
        boot_diffs = features(bench, boot[:, 0], kind) - features(bench, boot[:, 1], kind)
        everything = np.arange(len(bench.pool))
        for l2 in (0.1, 1.0, 10.0):
            ceilings = [pair_accuracy(fit_bradley_terry(d, np.ones(len(d)), l2)[None], held)
                        for d in (diffs_of(draws[0], everything), diffs_of(oracle_winner, everything))]
            for weight in args.design_weights:
                cells = []
                for n in (200, 800):
                    accs = []
                    for seed in range(args.seeds):
                        rows = np.random.default_rng(seed).choice(len(bench.pool), n, replace=False)
                        d = np.concatenate([diffs_of(draws[seed][rows], rows), boot_diffs])
                        w = np.concatenate([np.ones(n), np.full(len(boot_diffs), weight)])
                        accs.append(pair_accuracy(fit_bradley_terry(d, w, l2)[None], held))
                    mean, se = mean_se(accs)
                    cells.append(f"{mean:.3f} ± {se:.3f}")
                lines.append(f"| {kind} | {l2} | {weight} | {cells[0]} | {cells[1]} | {ceilings[0]:.3f} | "
                             f"{ceilings[1]:.3f} |")
    agree = oracle_agreement(bench, draws[0])
    gold_wins = float(np.mean(bench.oracle[boot[:, 0]] > bench.oracle[boot[:, 1]]))
    return "\n".join(lines + ["", f"simulated annotator agrees with the oracle on {agree:.3f} of pool tasks; the "
                                   f"oracle prefers gold over the policy reply in {gold_wins:.3f} of bootstrap pairs"])


def mean_se(values: list[float]) -> tuple[float, float]:
    mean = float(np.mean(values))
    return mean, (float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else float("nan"))


def labels_to_reach(grid: list[int], means: list[float], target: float) -> float | None:
    """The first label count (linearly interpolated on the grid) whose mean accuracy reaches ``target``."""
    for i, (n, acc) in enumerate(zip(grid, means)):
        if acc >= target:
            if i == 0:
                return float(n)
            n0, a0 = grid[i - 1], means[i - 1]
            return n0 + (n - n0) * (target - a0) / (acc - a0)
    return None


def log_fit(grid: list[int], means: list[float]) -> tuple[float, float]:
    """``accuracy ~ a + b log(labels)`` fitted on the grid's points from 50 labels on (a smooth curve: the
    first crossing of a noisy mean curve is biased towards fewer labels, even for random against itself)."""
    keep = [i for i, n in enumerate(grid) if n >= 50]
    b, a = np.polyfit(np.log([grid[i] for i in keep]), [means[i] for i in keep], 1)
    return float(a), float(b)


def summarise(results: dict, rules: tuple[str, ...]) -> dict:
    grid = sorted(next(iter(results["random"].values())))
    seeds = sorted(results["random"])
    summary = {}
    for rule in rules:
        per_n = {n: mean_se([results[rule][s][n] for s in seeds]) for n in grid}
        paired = {n: mean_se([results[rule][s][n] - results["random"][s][n] for s in seeds]) for n in grid}
        summary[rule] = {"grid": grid, "mean": [per_n[n][0] for n in grid], "se": [per_n[n][1] for n in grid],
                         "minus_random": [paired[n][0] for n in grid], "minus_random_se": [paired[n][1] for n in grid]}
    a_random, b_random = log_fit(grid, summary["random"]["mean"])
    for rule in rules:
        a, b = log_fit(grid, summary[rule]["mean"])
        summary[rule]["log_fit"] = [a, b]
        summary[rule]["labels_for_random_at"] = {
            n: labels_to_reach(grid, summary[rule]["mean"], summary["random"]["mean"][grid.index(n)])
            for n in REPORTED if n in grid}
        summary[rule]["fitted_labels_for_random_at"] = {
            n: float(np.exp((a_random + b_random * np.log(n) - a) / b)) if b > 0 else None for n in REPORTED}
    return summary


def markdown(summary: dict, rules: tuple[str, ...], seeds: int) -> str:
    reported = [n for n in REPORTED if n in summary["random"]["grid"]]
    grid = summary["random"]["grid"]
    head = "| rule | " + " | ".join(f"{n} labels" for n in [0, *reported]) + " |"
    lines = [head, "|" + "---|" * (len(reported) + 2)]
    for rule in rules:
        cells = [f"{summary[rule]['mean'][grid.index(n)]:.3f} ± {summary[rule]['se'][grid.index(n)]:.3f}"
                 for n in [0, *reported]]
        lines.append(f"| {rule} | " + " | ".join(cells) + " |")
    lines += ["", "Paired difference from random (same seed, same annotator draws), mean ± SE over seeds:", "",
              "| rule | " + " | ".join(f"{n} labels" for n in reported) + " |", "|" + "---|" * (len(reported) + 1)]
    for rule in rules[1:]:
        cells = [f"{summary[rule]['minus_random'][grid.index(n)]:+.3f} ± "
                 f"{summary[rule]['minus_random_se'][grid.index(n)]:.3f}" for n in reported]
        lines.append(f"| {rule} | " + " | ".join(cells) + " |")
    for key, what in (("fitted_labels_for_random_at", "on log-linear fits of the mean curves (accuracy = a + b "
                       "log labels, 50-1600 labels)"),
                      ("labels_for_random_at", "at the first crossing of the raw mean curve (noisy: random itself "
                       "scores below 1)")):
        lines += ["", f"Labels each rule needs to reach random's accuracy at N, {what}; ratio to N in brackets "
                      f"(target <= 0.5), {seeds} seeds:", "",
                  "| rule | " + " | ".join(f"N={n}" for n in reported) + " |", "|" + "---|" * (len(reported) + 1)]
        for rule in rules:
            cells = []
            for n in reported:
                needed = summary[rule][key][n]
                cells.append(f"> {grid[-1]}" if needed is None or needed > grid[-1] * 1.5
                             else f"{needed:.0f} ({needed / n:.2f})")
            lines.append(f"| {rule} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def svg_plot(summary: dict, rules: tuple[str, ...], path: Path) -> None:
    """Accuracy vs labels (log x), one line per rule with ±1 SE bars, as plain SVG (no matplotlib here)."""
    width, height, left, bottom, top, right = 640, 400, 60, 50, 20, 130
    grid = [n for n in summary["random"]["grid"] if n > 0]
    lows = [summary[r]["mean"][i] - 2 * summary[r]["se"][i] for r in rules for i, n in
            enumerate(summary[r]["grid"]) if n > 0]
    highs = [summary[r]["mean"][i] + 2 * summary[r]["se"][i] for r in rules for i, n in
             enumerate(summary[r]["grid"]) if n > 0]
    y0, y1 = math.floor(min(lows) * 50) / 50, math.ceil(max(highs) * 50) / 50
    x = lambda n: left + (math.log(n) - math.log(grid[0])) / (math.log(grid[-1]) - math.log(grid[0])) * (  # noqa
        width - left - right)
    y = lambda a: height - bottom - (a - y0) / (y1 - y0) * (height - bottom - top)  # noqa: E731
    colours = {"random": "#555555", "bt-half": "#1f77b4", "ensemble": "#2ca02c", "bald": "#d62728",
               "epig": "#9467bd"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             f'font-size="11"><rect width="100%" height="100%" fill="white"/>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
             f'<text x="{(width - right + left) / 2}" y="{height - 12}" text-anchor="middle">labels (log scale)'
             '</text>', f'<text x="14" y="{(height - bottom + top) / 2}" transform="rotate(-90 14 '
             f'{(height - bottom + top) / 2})" text-anchor="middle">held-out accuracy vs oracle</text>']
    for n in REPORTED + (50,):
        if n in grid:
            parts.append(f'<text x="{x(n):.1f}" y="{height - bottom + 15}" text-anchor="middle">{n}</text>')
    steps = int(round((y1 - y0) / 0.02))
    for k in range(steps + 1):
        a = y0 + k * 0.02
        parts.append(f'<text x="{left - 5}" y="{y(a) + 4:.1f}" text-anchor="end">{a:.2f}</text>')
        parts.append(f'<line x1="{left}" y1="{y(a):.1f}" x2="{width - right}" y2="{y(a):.1f}" stroke="#eeeeee"/>')
    for j, rule in enumerate(rules):
        colour = colours.get(rule, "black")
        points = [(x(n), y(m), s) for n, m, s in zip(summary[rule]["grid"], summary[rule]["mean"],
                                                     summary[rule]["se"]) if n > 0]
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="'
                     + " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in points) + '"/>')
        for px, py, se in points:
            bar = se / (y1 - y0) * (height - bottom - top)
            parts.append(f'<line x1="{px:.1f}" y1="{py - bar:.1f}" x2="{px:.1f}" y2="{py + bar:.1f}" '
                         f'stroke="{colour}" stroke-opacity="0.5"/>')
        parts.append(f'<text x="{width - right + 10}" y="{top + 15 + 16 * j}" fill="{colour}">{rule}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--design", action="store_true", help="Print the feature / C / bootstrap-weight table.")
    parser.add_argument("--rules", nargs="+", default=list(RULES), choices=RULES)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--max-labels", type=int, default=1600)
    parser.add_argument("--ensemble", type=int, default=8)
    parser.add_argument("--features", default="reply", choices=FEATURES,
                        help="Reply features; tfidf / tfidf+reply (word 1-2 gram TF-IDF fitted on the pool's replies, "
                             "alone or beside MiniLM) exist only here, to measure headroom.")
    parser.add_argument("--design-features", nargs="+", default=["reply", "reply+product"], choices=FEATURES)
    parser.add_argument("--design-weights", nargs="+", type=float, default=[0.0, 0.1, 0.3])
    parser.add_argument("--l2", type=float, default=0.1)
    parser.add_argument("--bootstrap-weight", type=float, default=0.0)
    parser.add_argument("--max-per-conversation", type=int, default=1)
    parser.add_argument("--min-distance", type=float, default=0.05)
    parser.add_argument("--kappa", type=float, default=0.4,
                        help="Annotators' Cohen's kappa; 1 = noise-free (the oracle's choice, no position bias).")
    parser.add_argument("--position-bias", type=float, default=0.3)
    parser.add_argument("--oracle", default="judged_empathy", choices=("judged_empathy", "empathy", "linear"),
                        help="judged_empathy: the judge that reads the conversation (default); empathy: the old "
                             "context-free composite; linear: a Bradley-Terry oracle in the model's own features, "
                             "fitted to the composite on the whole pool (a well-specified diagnostic).")
    parser.add_argument("--work", type=Path, default=Path("/tmp/acquire_bench"))
    parser.add_argument("--out", default="label_efficiency", help="Stem of the files in benchmarks/results/.")
    args = parser.parse_args(argv)
    if "random" not in args.rules:
        args.rules.insert(0, "random")
    args.rules = tuple(args.rules)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    args.work.mkdir(parents=True, exist_ok=True)
    bench = build_bench(args.work, "empathy" if args.oracle == "linear" else args.oracle)
    if args.oracle == "linear":
        bench = with_linear_oracle(bench, args.features, args.l2)
    print(f"pool: {len(bench.pool)} tasks ({len(set(bench.pool_groups))} conversations), held-out: "
          f"{len(bench.heldout)} pairs, bootstrap: {len(bootstrap_pairs(bench))} pairs "
          f"({time.perf_counter() - start:.0f} s to load)", file=sys.stderr, flush=True)
    if args.design:
        table = design(bench, args)
        print(table)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{args.out}_design.md").write_text(table + "\n")
        return
    agreement = [oracle_agreement(bench, annotator_draws(bench, s, args.kappa, args.position_bias))
                 for s in range(args.seeds)]
    print(f"annotators (kappa {args.kappa}) agree with the oracle on {np.mean(agreement):.3f} of pool tasks",
          file=sys.stderr, flush=True)
    results = curves(bench, args, args.work)
    summary = summarise(results, args.rules)
    table = markdown(summary, args.rules, args.seeds)
    wall = time.perf_counter() - start
    print(table)
    print(f"\n{args.seeds} seeds; mean ± SE over seeds; held-out pairs n={len(bench.heldout)}; wall time {wall:.0f} s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    (RESULTS / f"{args.out}.json").write_text(json.dumps({
        "settings": settings, "pool_tasks": len(bench.pool), "heldout_pairs": len(bench.heldout),
        "wall_seconds": round(wall, 1), "oracle_agreement_per_seed": agreement, "summary": summary,
        "per_seed": {r: {str(s): c for s, c in v.items()} for r, v in results.items()}}, indent=1) + "\n")
    (RESULTS / f"{args.out}.md").write_text(table + "\n")
    svg_plot(summary, args.rules, RESULTS / f"{args.out}.svg")


if __name__ == "__main__":
    main()
