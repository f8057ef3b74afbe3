"""The robustness battery and EPITOME agreement of every scorer the toolkit offers, side by side.

    python benchmarks/battery.py [--n 300] [--reward-model NAME=DIR ...] [--dyme DIR] [--judge NAME=DIR ...]
                                 [--pmi NAME=LM_DIR ...] [--pmi-weight W] [--out battery]

1. Battery (battery/run.py): on the first ``--n`` listener turns of ED test (3 previous turns; no training step of
   the judge, the yardsticks or a reward model saw these conversations), per probe kind the share of contexts where
   the human reply scores strictly higher than the probe (ties count against the scorer), Wilson 95% intervals.
   Probes use the BATTERY phrases (battery/phrases.py), disjoint from the TRAINING phrases of hard negatives.
2. EPITOME agreement: Spearman of each score column with the human ER+IP+EX level sum on EPITOME's test split
   (last 150 words of the seeker post as the context), 95% bootstrap interval.

Scorers: the judge (judged_empathy, context_fit), the EPITOME yardsticks (the old composite ``empathy``, er, ip,
ex, emotion_fit), the static reward, and any reward models / DYME model named on the command line; with
``--combined-weight W``, also each reward model + W x context_fit (the combined reward of rl.rewards
``{reward_model: 1, context_fit: W}``); with ``--judge NAME=DIR``, another built judge's columns beside the
cache's (``judged_empathy (NAME)``, ``context_fit (NAME)``: judge variants on the same probes); with
``--pmi NAME=LM_DIR``, the context PMI under that causal LM (judge/pmi.py; ~15 min per 300 contexts on 2 CPU
cores), and with ``--pmi-weight W`` also context_fit + W x context_pmi. Every scorer is called once per batch (the
combinations reuse the scores).
Writes ``benchmarks/results/<out>.json`` and ``<out>.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

RESULTS = Path(__file__).resolve().parent / "results"


class Once:
    """A scorer called once per (prompts, replies) batch: a combination reuses its parts' scores."""

    def __init__(self, scorer):
        self.scorer, self.memo = scorer, {}

    def __call__(self, prompts, replies):
        key = (id(replies), len(replies))
        if key not in self.memo:
            self.memo[key] = self.scorer(prompts, replies)
        return self.memo[key]


def combined(reward_model: Once, judge: Once, weight: float):
    return lambda prompts, replies: (np.asarray(reward_model(prompts, replies), dtype=float)
                                     + weight * np.asarray(judge(prompts, replies)["context_fit"], dtype=float))


def fit_plus_pmi(judge: Once, pmi: Once, weight: float):
    return lambda prompts, replies: (np.asarray(judge(prompts, replies)["context_fit"], dtype=float)
                                     + weight * np.asarray(pmi(prompts, replies), dtype=float))


def renamed(scorer, name: str):
    """A registry scorer's columns under ``column (name)``."""
    return lambda prompts, replies: {f"{column} ({name})": values for column, values in scorer(prompts, replies).items()}


def epitome_agreement(scorers: dict, seed: int) -> dict:
    from empathic_rlhf.judge.build import epitome_split
    from empathic_rlhf.reward.probe import spearman_ci
    from empathic_rlhf.records import alternating_prompt

    histories, replies, levels = epitome_split("test")
    prompts = [alternating_prompt(h) for h in histories]
    out = {}
    for name, scorer in scorers.items():
        scores = scorer(prompts, replies)
        for column, values in (scores.items() if isinstance(scores, dict) else [(name, scores)]):
            out[column] = spearman_ci(values, levels, seed=seed)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--reward-model", action="append", default=[], help="NAME=DIR of a trained reward model.")
    parser.add_argument("--dyme", help="A trained DYME model folder.")
    parser.add_argument("--judge", action="append", default=[], help="NAME=DIR of another built judge.")
    parser.add_argument("--pmi", action="append", default=[], help="NAME=DIR of a causal LM for context PMI.")
    parser.add_argument("--pmi-weight", type=float, help="Add context_fit + W x context_pmi columns.")
    parser.add_argument("--skip-judge", action="store_true")
    parser.add_argument("--combined-weight", type=float, help="Add reward model + W x context_fit columns.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="battery")
    args = parser.parse_args(argv)

    from empathic_rlhf.battery.run import contexts_from_conversations, format_table, predicted_emotions, run_battery
    from empathic_rlhf.data.sources import resolve
    from empathic_rlhf.empathy.build import default_ed_dir
    from empathic_rlhf.runtime import configure_cpu_runtime
    from empathic_rlhf.scorers import column_scorer, load_scorer

    configure_cpu_runtime()
    source = resolve(args.data_dir or str(default_ed_dir()))
    contexts = contexts_from_conversations(source.read("test"), history_turns=3, limit=args.n)
    scorers = {"empathy": load_scorer("empathy"), "static": load_scorer("static")}
    if not args.skip_judge:
        scorers["judge"] = Once(load_scorer("judge"))
    for entry in args.judge:
        name, _, folder = entry.partition("=")
        scorers[f"judge {name}"] = renamed(load_scorer(f"judge:{folder}"), name)
    for entry in args.reward_model:
        name, _, folder = entry.partition("=")
        scorers[name] = Once(column_scorer(f"reward_model:{folder}"))
        if args.combined_weight is not None and "judge" in scorers:
            scorers[f"{name}+{args.combined_weight:g}·context_fit"] = combined(scorers[name], scorers["judge"],
                                                                          args.combined_weight)
    for entry in args.pmi:
        name, _, folder = entry.partition("=")
        scorers[f"context_pmi ({name})"] = Once(column_scorer(f"pmi:{folder}"))
        if args.pmi_weight is not None and "judge" in scorers:
            scorers[f"context_fit+{args.pmi_weight:g}·context_pmi ({name})"] = fit_plus_pmi(
                scorers["judge"], scorers[f"context_pmi ({name})"], args.pmi_weight)
    if args.dyme:
        scorers["dyme"] = column_scorer(f"dyme:{args.dyme}")
    predicted = predicted_emotions(contexts)
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    battery = run_battery(contexts, scorers, seed=args.seed, predicted_emotions=predicted, log=log)
    agreement = epitome_agreement(scorers, args.seed)
    lines = [f"# Robustness battery (ED test, first {args.n} listener turns) and EPITOME agreement", "",
             format_table(battery), "", "| score column | EPITOME test Spearman [95% CI] | n |", "|---|---|---:|"]
    for column, row in agreement.items():
        rho = "–" if row["rho"] is None else f"{row['rho']:.3f} [{row['lo']:.3f}, {row['hi']:.3f}]"
        lines.append(f"| {column} | {rho} | {row['n']} |")
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps({"battery": battery, "epitome": agreement}, indent=1))
    (RESULTS / f"{args.out}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
