"""``empathic judge build`` (train, choose, measure and cache the judge; print its tables) and ``empathic judge
score`` (judged_empathy and context_fit of {history, reply} JSON lines)."""

from __future__ import annotations

import json
from pathlib import Path


def format_report(report: dict) -> str:
    """The build's test tables: the battery (ED test) and EPITOME agreement (its test split), judge vs the old
    composite, and the combination chosen on the valid splits."""
    from ..battery.run import format_table

    test = report["test"]
    battery = {"n_contexts": None, "warn_above": 0.10, "scorers": {n: row["battery"] for n, row in test.items()}}
    first = next(iter(test.values()))["battery"]
    battery["n_contexts"] = max(row["n"] for row in first["probes"].values())
    lines = [f"combination (chosen on ED valid + EPITOME valid): {json.dumps(report['rule'])}", "",
             "ED test: " + format_table(battery), "",
             "| EPITOME test | Spearman with the human ER+IP+EX sum [95% CI] | n |", "|---|---|---:|"]
    for name, row in test.items():
        s = row["epitome_spearman"]
        lines.append(f"| {name} | {s['rho']:.3f} [{s['lo']:.3f}, {s['hi']:.3f}] | {s['n']} |")
    t = report["training"]
    lines.append(f"\ntraining: {t['pairs']:,} pairs, {t['steps']} steps, loss {t['first_loss']:.3f} -> "
                 f"{t['last_loss']:.3f}; build {report['build_seconds']:.0f} s")
    return "\n".join(lines)


def built_with(saved: dict, config) -> bool:
    """Whether a build whose report saved config ``saved`` is the build ``config`` asks for; a field the toolkit
    added after that build counts at its default (a judge built before ``mined_phrases`` existed used none)."""
    from dataclasses import asdict

    return {**asdict(type(config)()), **saved} == asdict(config)


def _build(args, overrides) -> int:
    from ..config import load_section
    from ..runtime import configure_cpu_runtime

    configure_cpu_runtime()
    from .build import build_judge
    from .config import JudgeBuildConfig
    from .scorer import default_judge_dir

    config = load_section(JudgeBuildConfig, "judge", config_file=args.config, overrides=overrides)
    out = Path(args.out) if args.out else default_judge_dir()
    report_path = out / "report.json"
    if not args.force and report_path.is_file():
        if built_with(json.loads(report_path.read_text(encoding="utf-8"))["config"], config):
            print(f"{out} is built already with this config (--force rebuilds); its test tables:")
            print(format_report(json.loads(report_path.read_text(encoding="utf-8"))))
            return 0
    build_judge(config, out)
    print(format_report(json.loads(report_path.read_text(encoding="utf-8"))))
    return 0


def _score(args, overrides) -> int:
    from ..metrics.static_reward import read_pairs
    from .scorer import load_judge

    histories, replies = read_pairs(args.input or "-")
    scores = load_judge(args.model)(histories, replies)
    for i in range(len(replies)):
        print(json.dumps({"history": histories[i], "reply": replies[i],
                          **{n: round(float(v[i]), 4) for n, v in scores.items()}}, ensure_ascii=False))
    return 0


def add_commands(subparsers) -> None:
    import argparse

    from ..stage_cli import describe_fields
    from .config import JudgeBuildConfig

    judge = subparsers.add_parser("judge", help="The empathy judge that reads the conversation (judged_empathy).")
    sub = judge.add_subparsers(dest="judge_command", metavar="<judge-command>", required=True)
    build = sub.add_parser("build", help="Train (~30 min on 2 CPU cores, resumable), choose, measure and cache the "
                                         "judge; print its battery and EPITOME tables.",
                           epilog="settings (--judge.key=value, or under judge: in the --config YAML; "
                                  "docs/empathy.md):\n" + "\n".join(describe_fields(JudgeBuildConfig, "judge.")),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    build.add_argument("--out", help="Judge folder (default: the cache, where load_judge looks).")
    build.add_argument("--force", action="store_true", help="Rebuild even if the folder is complete.")
    build.add_argument("--config", help="YAML file; its judge section is read.")
    build.set_defaults(func=_build)
    score = sub.add_parser("score", help="judged_empathy and context_fit of {history, reply} JSON lines.")
    score.add_argument("input", nargs="?", default="-", help="JSONL file of {history: [str], reply: str}; - = stdin.")
    score.add_argument("--model", help="Judge folder (default: $EMPATHIC_JUDGE_MODEL, else the cache).")
    score.set_defaults(func=_score)
