"""The one-evening scenario, simulated (docs/evening.md): what one round of labels and retraining bought.

    for arm in evening evening_random; do      # each arm in a copy of the finished results run (cp -a)
      mkdir runs/$arm && cp -a runs/results/{config.yaml,manifest.json,prepare,sft,sample,reward,rl,dpo} runs/$arm/
    done
    empathic run --profile results --name evening --config examples/evening.yaml \
        '--evaluate.models=[sft,rl]' --evaluate.battery=0
    empathic run --profile results --name evening_random --config examples/evening.yaml --acquire.rule=random \
        '--evaluate.models=[sft,rl]' --evaluate.battery=0
    python benchmarks/evening.py runs/results runs/evening runs/evening_random

``base`` is the finished results run the evening starts from (round 1: its π, reward model and RL policy); each
arm is a copy of it that ran round 2 (``rounds.count: 2``). Every evaluation samples the same test contexts with the
same seed, so π's replies are identical in every run and models of different runs pair on the same contexts
(``evaluate/scores.jsonl``, averaged over a context's replies). Prints markdown: the round's wall time per stage,
the round-2 policy against π and against round 1's policy (judge, monitors; paired difference [95% bootstrap CI] p),
the arms against each other, and the reward model's battery before and after the round's labels.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from empathic_rlhf.stats import mean_ci, paired_difference  # noqa: E402

METRICS = ("judged_empathy", "context_fit", "reward_model", "empathy", "stock", "near_copy", "question", "length")
ROUND_STAGES = ("sample", "acquire", "label", "reward", "rl")


def per_context(run: Path, model: str) -> dict[str, dict[str, float]]:
    """``{context: {metric: mean over the context's replies}}`` of ``model`` in ``run``'s evaluation."""
    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for line in (run / "evaluate" / "scores.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["model"] == model:
            context = row["sample_id"]
            for metric in METRICS:
                if row.get(metric) is not None:
                    sums[context][metric].append(row[metric])
    return {c: {m: float(np.mean(v)) for m, v in metrics.items()} for c, metrics in sums.items()}


def p_text(p: float | None) -> str:
    return "–" if p is None else ("p<0.001" if p < 0.001 else f"p={p:.3f}")


def compare(base: dict, other: dict) -> dict[str, dict]:
    """other − base per metric, paired on the contexts both have."""
    contexts = sorted(set(base) & set(other))
    return {m: paired_difference([base[c][m] for c in contexts], [other[c][m] for c in contexts])
            for m in METRICS if all(m in base[c] and m in other[c] for c in contexts)}


def net_of_questions(base: dict, other: dict, *, resamples: int = 2000, seed: int = 0) -> str:
    """The judge gain that asking more questions does not explain: the intercept of the per-context judge
    difference regressed on the per-context question-rate difference (95% bootstrap CI over contexts), and the mean
    judge difference on the contexts where both asked equally often. The judge rates a stock question appended to
    gold at or above gold in 57% of contexts (docs/results.md), so a gain made of questions is suspect."""
    contexts = sorted(set(base) & set(other))
    judge = np.array([other[c]["judged_empathy"] - base[c]["judged_empathy"] for c in contexts])
    questions = np.array([other[c]["question"] - base[c]["question"] for c in contexts])

    def intercept(rows) -> float:
        design = np.column_stack([np.ones(len(rows)), questions[rows]])
        return float(np.linalg.lstsq(design, judge[rows], rcond=None)[0][0])

    rng = np.random.default_rng(seed)
    draws = [intercept(rng.integers(0, len(contexts), len(contexts))) for _ in range(resamples)]
    lo, hi = np.quantile(draws, [0.025, 0.975])
    equal = questions == 0
    same = mean_ci(judge[equal])
    return (f"{intercept(np.arange(len(contexts))):+.3f} [{lo:+.3f}, {hi:+.3f}]; on the {int(equal.sum())} contexts "
            f"with equal question rates {same['mean']:+.3f} [{same['lo']:+.3f}, {same['hi']:+.3f}]")


def difference_row(label: str, diffs: dict) -> str:
    cells = [f"{d['diff']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}] {p_text(d['p'])}" if (d := diffs.get(m)) else "–"
             for m in METRICS]
    n = next(iter(diffs.values()))["n"] if diffs else 0
    return f"| {label} | {n} | " + " | ".join(cells) + " |"


def stage_seconds(arm: Path) -> dict[str, float]:
    manifest = json.loads((arm / "rounds" / "2" / "manifest.json").read_text())["stages"]
    return {stage: manifest[stage]["seconds"] for stage in ROUND_STAGES if stage in manifest}


def battery_kinds(reward_dir: Path) -> dict[str, dict]:
    metrics = json.loads((reward_dir / "metrics.json").read_text())
    return metrics["battery"]["scorers"]["reward_model"]["kinds"], metrics["heldout"]["overall"]


def markdown(base: Path, arms: list[Path]) -> str:
    lines = ["### Wall time of round 2, per stage (s)", "",
             "| arm | " + " | ".join(ROUND_STAGES) + " | retraining (reward + rl) |", "|" + "---|" * 7]
    for arm in arms:
        seconds = stage_seconds(arm)
        lines.append(f"| {arm.name} | " + " | ".join(f"{seconds.get(s, float('nan')):.0f}" for s in ROUND_STAGES)
                     + f" | {seconds.get('reward', 0) + seconds.get('rl', 0):.0f} |")
    pi = per_context(base, "sft")
    round1 = per_context(base, "rl")
    lines += ["", "### Paired on the same test contexts (difference [95% bootstrap CI] p)", "",
              "| comparison | n | " + " | ".join(METRICS) + " |", "|" + "---|" * (2 + len(METRICS))]
    lines.append(difference_row(f"round 1 RL ({base.name}) − π", compare(pi, round1)))
    finals = {}
    for arm in arms:
        finals[arm.name] = per_context(arm, "rl")
        arm_pi = per_context(arm, "sft")
        same_pi = all(abs(arm_pi[c]["judged_empathy"] - pi[c]["judged_empathy"]) < 1e-4 for c in arm_pi)
        lines.append(difference_row(f"{arm.name} round 2 − π" + ("" if same_pi else " (π's replies DIFFER)"),
                                    compare(pi, finals[arm.name])))
        lines.append(difference_row(f"{arm.name} round 2 − round 1 RL", compare(round1, finals[arm.name])))
    if len(arms) == 2:
        first, second = (a.name for a in arms)
        lines.append(difference_row(f"{first} − {second} (round 2)", compare(finals[second], finals[first])))
    lines += ["", "Judge gain not explained by more questions (intercept of judge diff ~ question diff, 95% CI):", ""]
    lines.append(f"- round 1 RL − π: {net_of_questions(pi, round1)}")
    for arm in arms:
        lines.append(f"- {arm.name} round 2 − π: {net_of_questions(pi, finals[arm.name])}")
        lines.append(f"- {arm.name} round 2 − round 1 RL: {net_of_questions(round1, finals[arm.name])}")
    lines.append("")
    lines += ["", "### The reward model's battery: share of contexts where gold beats the probe [95% CI]", ""]
    before, before_heldout = battery_kinds(base / "reward")
    afters = {arm.name: battery_kinds(arm / "rounds" / "2" / "reward") for arm in arms}
    lines += ["| probe kind | before (round 1) | " + " | ".join(f"after ({a})" for a in afters) + " |",
              "|" + "---|" * (2 + len(afters))]
    for kind, row in before.items():
        cells = [f"{row['rate']:.2f} [{row['lo']:.2f}, {row['hi']:.2f}]"]
        cells += [f"{k[kind]['rate']:.2f} [{k[kind]['lo']:.2f}, {k[kind]['hi']:.2f}]" if kind in k else "–"
                  for k, _ in afters.values()]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    cells = [f"{h['accuracy']:.3f} [{h['accuracy_ci95'][0]:.3f}, {h['accuracy_ci95'][1]:.3f}] (n {h['n']})"
             for h in (before_heldout, *(h for _, h in afters.values()))]
    lines.append("| held-out pairs (the round's own test set) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="The finished results run the evening started from.")
    parser.add_argument("arms", nargs="+", type=Path, help="Copies of it that ran round 2 (acquire, random, ...).")
    args = parser.parse_args(argv)
    missing = [str(r) for r in (args.base, *args.arms) if not (r / "evaluate" / "scores.jsonl").is_file()]
    if missing:
        sys.exit(f"error: no evaluate/scores.jsonl in {', '.join(missing)}")
    print(markdown(args.base, args.arms))


if __name__ == "__main__":
    main()
