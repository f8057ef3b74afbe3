"""One row per round for ``<run>/rounds/summary.json`` and the report's Rounds table, read from what the round's
stages wrote: labels so far, the reward model's held-out accuracy (95% interval), RL's held-out gain over π on the
report prompts (± standard error) and its KL to π."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ..rundir import round_path


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _label_sources(path: Path) -> Counter:
    if not path.is_file():
        return Counter()
    return Counter(json.loads(line)["source"] for line in path.read_text(encoding="utf-8").splitlines()
                   if line.strip())


def round_row(config, number: int) -> dict:
    folder = round_path(config.run_path, number)
    sources = _label_sources(folder / "reward" / "labels.jsonl")
    heldout = _json(folder / "reward" / "metrics.json").get("heldout", {}).get("overall", {})
    rl = _json(folder / "rl" / "metrics.json")
    report, kept = rl.get("report") or {}, rl.get("kept") or {}
    stages = _json(folder / "manifest.json").get("stages", {})
    acquired = stages.get("acquire", {}).get("summary", {})
    new = stages.get("reward", {}).get("summary", {}).get("labels_new") if number > 1 else sum(sources.values())
    return {
        "round": number, "folder": str(folder),
        "labels": sum(sources.values()), "label_source": ", ".join(sorted(sources)) or None, "new_labels": new,
        "acquire_rule": acquired.get("rule"), "pool": acquired.get("pool"),
        "reward_accuracy": heldout.get("accuracy"), "reward_accuracy_ci95": heldout.get("accuracy_ci95"),
        "reward_heldout_pairs": heldout.get("n"),
        "rl_gain": report.get("diff_vs_pi"), "rl_gain_se": report.get("diff_vs_pi_se"),
        "rl_report_prompts": report.get("n_prompts"), "rl_samples_per_prompt": report.get("samples_per_prompt"),
        "kl": report.get("kept_kl"), "kl_se": report.get("kept_kl_se"), "kept_step": kept.get("step"),
        "policy": str(folder / "rl" / "model"),
    }
