"""RL repeated with other seeds on the same π and reward model: the spread of its gain across seeds.

    empathic rl --profile results --name results_rl_s1 --rl.seed=1     # in a copy of runs/results without rl/
    empathic evaluate --profile results --name results_rl_s1 '--evaluate.models=[sft,rl]'
    python benchmarks/rl_seeds.py runs/results runs/results_rl_s1 runs/results_rl_s2

Each run's ``evaluate/table.json`` holds RL − π paired on the same test contexts (difference, 95% bootstrap CI,
p-value); every evaluation samples with the same seed, so π's replies are the same in every run and the runs differ
only by the RL seed. Prints one row per run and metric, then the mean over seeds ± its standard error (the spread
of the RL procedure itself, on top of each run's within-run interval), and the RL stage's own record (kept step,
KL, report-set gain).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

METRICS = ("judged_empathy", "context_fit", "reward_model", "empathy", "er", "ip", "ex", "emotion_fit", "perplexity",
           "distinct_2", "length", "stock", "question")


def load(run: Path) -> tuple[dict, dict, dict]:
    """(RL − π paired differences, π's row, the RL stage's manifest summary) of one run folder."""
    table = json.loads((run / "evaluate" / "table.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    pi_row = next(r["metrics"] for r in table["rows"] if r["model"] == table["baseline"])
    return table["vs_baseline"]["rl"], pi_row, manifest["stages"]["rl"]


def p_text(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def seed_of(entry: dict) -> int:
    config = entry["config"]
    return config["seed"] if config["rl"].get("seed") is None else config["rl"]["seed"]


def markdown(runs: list[Path]) -> str:
    loaded = [load(run) for run in runs]
    seeds = [seed_of(rl_entry) for _, _, rl_entry in loaded]
    pi_means = {m: {round(pi[m]["mean"], 6) for _, pi, _ in loaded if m in pi} for m in METRICS}
    same_pi = all(len(v) <= 1 for v in pi_means.values())
    lines = ["| RL seed | kept step | its KL/reply | report-set gain ± SE | "
             + " | ".join(METRICS) + " |", "|" + "---|" * (4 + len(METRICS))]
    for seed, (diffs, _, entry) in zip(seeds, loaded):
        summary = entry["summary"]
        cells = [f"{d['diff']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}] {p_text(d['p'])}" if (d := diffs.get(m)) else "–"
                 for m in METRICS]
        lines.append(f"| {seed} | {summary.get('kept_step')} | {summary.get('kept_heldout_kl', float('nan')):.2f} | "
                     f"{summary.get('report_diff_vs_pi', float('nan')):+.3f} ± "
                     f"{summary.get('report_diff_vs_pi_se', float('nan')):.3f} | " + " | ".join(cells) + " |")
    means = []
    for m in METRICS:
        values = [diffs[m]["diff"] for diffs, _, _ in loaded if m in diffs]
        se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else float("nan")
        means.append(f"{statistics.mean(values):+.3f} ± {se:.3f}" if values else "–")  # a column no run has
    lines.append(f"| mean ± SE over {len(runs)} seeds | | | | " + " | ".join(means) + " |")
    n = loaded[0][0]["empathy"]["n"]
    note = (f"\n\nRL − π on {n} test contexts per run, paired; cells: difference [95% bootstrap CI] p. π's replies "
            f"{'are identical in every run' if same_pi else 'DIFFER between runs (check the evaluate seeds)'}.")
    return "\n".join(lines) + note


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="Run folders with rl/ and evaluate/ (one per RL seed).")
    args = parser.parse_args(argv)
    missing = [str(r) for r in args.runs if not (r / "evaluate" / "table.json").is_file()]
    if missing:
        sys.exit(f"error: no evaluate/table.json in {', '.join(missing)}")
    print(markdown(args.runs))


if __name__ == "__main__":
    main()
