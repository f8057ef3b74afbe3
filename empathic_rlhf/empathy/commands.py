"""``empathic empathy build`` (train, cache and print the test tables) and ``empathic empathy score``."""

from __future__ import annotations

import json

# The paper's RoBERTa bi-encoder, test split (Sharma et al. 2020, Table 2): accuracy, macro-F1 in %.
PAPER = {"er": (79.43, 74.46), "ip": (84.04, 62.60), "ex": (92.61, 72.58)}
# The floor: frozen MiniLM post+response embeddings, balanced logistic regression (C=1), test macro-F1 on THIS
# split, measured by `python benchmarks/empathy_classifiers.py --floor` (the issue quoted .61/.53/.47 on its own).
FLOOR = {"er": 0.566, "ip": 0.502, "ex": 0.441}


def format_report(report: dict) -> str:
    """The test tables of a build's ``report.json`` as markdown."""
    lines = ["| mechanism | n | accuracy [95% CI] | macro-F1 [95% CI] | floor F1 | paper acc / F1 | C | train s |",
             "|---|---:|---|---|---:|---|---:|---:|"]
    for m, row in report["mechanisms"]["test"].items():
        sel = report["mechanisms"]["selection"][m]
        lines.append(f"| {m.upper()} | {row['n']} | {_pct(row['accuracy'], row['accuracy_ci'])} | "
                     f"{_pct(row['macro_f1'], row['macro_f1_ci'])} | {FLOOR[m] * 100:.0f} | "
                     f"{PAPER[m][0]:.1f} / {PAPER[m][1]:.1f} | {sel['c']} | {sel['seconds']} |")
    e = report["emotion"]["test"]
    lines += ["", "| emotion classifier (ED test, per listener turn) | n | top-1 [95% CI] | top-5 [95% CI] |",
              "|---|---:|---|---|"]
    for name in ("context", "reply"):
        lines.append(f"| from the {name} | {e['n']} | {_pct(e[f'{name}_top1'], e[f'{name}_top1_ci'])} | "
                     f"{_pct(e[f'{name}_top5'], e[f'{name}_top5_ci'])} |")
    lines += ["", "| ED test replies | n | ER | IP | EX | share ER/IP/EX >= 1 | emotion fit | gold beats: "
              "empathy / fit |", "|---|---:|---|---|---|---|---|---|"]
    for name, row in report["transfer"].items():
        beats = (" / ".join(f"{row[f'{k}_gold_beats_share']:.2f}" for k in ("empathy", "emotion_fit"))
                 if name != "gold" else "")
        lines.append(f"| {name} | {row['n']} | " + " | ".join(
            f"{row[f'{m}_mean']:.3f} ± {row[f'{m}_se']:.3f}" for m in ("er", "ip", "ex"))
            + " | " + " / ".join(f"{row[f'{m}_share_ge1']:.2f}" for m in ("er", "ip", "ex"))
            + f" | {row['emotion_fit_mean']:.3f} ± {row['emotion_fit_se']:.3f} | {beats} |")
    lines.append(f"\nbuild: {report['build_seconds']} s; emotion training s: {report['emotion']['seconds']}")
    return "\n".join(lines)


def _pct(value: float, interval: list[float]) -> str:
    return f"{value * 100:.1f} [{interval[0] * 100:.1f}, {interval[1] * 100:.1f}]"


def _build(args, overrides) -> int:
    from ..config import load_section
    from ..runtime import configure_cpu_runtime

    configure_cpu_runtime()
    from .build import build_models, default_model_dir
    from .config import EmpathyBuildConfig

    config = load_section(EmpathyBuildConfig, "empathy", config_file=args.config, overrides=overrides)
    out = args.out or default_model_dir()
    from pathlib import Path

    if not args.force and _built_with(Path(out), config):
        print(f"{out} is built already with this config (--force rebuilds); its test tables:")
    else:
        build_models(config, out)
    print(format_report(json.loads((Path(out) / "report.json").read_text(encoding="utf-8"))))
    return 0


def _built_with(folder, config) -> bool:
    """Whether ``folder`` holds a complete build made with exactly ``config``."""
    from dataclasses import asdict

    from .build import FILES

    if not all((folder / f).is_file() for f in FILES):
        return False
    return json.loads((folder / "report.json").read_text(encoding="utf-8"))["config"] == asdict(config)


def _score(args, overrides) -> int:
    from ..metrics.static_reward import read_pairs
    from .scorer import SCORE_NAMES, load_empathy_scorer

    histories, replies = read_pairs(args.input or "-")
    scorer = load_empathy_scorer(args.model)
    scores = scorer(histories, replies)
    emotions = scorer.predict_emotion(histories)
    for i in range(len(replies)):
        print(json.dumps({"history": histories[i], "reply": replies[i],
                          **{n: round(float(scores[n][i]), 4) for n in SCORE_NAMES},
                          "emotion": emotions[i][0], "emotion_p": round(emotions[i][1], 4)}, ensure_ascii=False))
    return 0


def add_commands(subparsers) -> None:
    empathy = subparsers.add_parser("empathy", help="Empathy yardsticks: EPITOME mechanisms and ED emotions.")
    sub = empathy.add_subparsers(dest="empathy_command", metavar="<empathy-command>", required=True)
    build = sub.add_parser("build", help="Train, measure and cache both yardsticks; print the test tables.",
                           epilog="Settings: --empathy.seed=0 etc.; see docs/empathy.md.")
    build.add_argument("--out", help="Model folder (default: the cache, where load_empathy_scorer looks).")
    build.add_argument("--force", action="store_true", help="Rebuild even if the folder is complete.")
    build.add_argument("--config", help="YAML file; its empathy section is read.")
    build.set_defaults(func=_build)
    score = sub.add_parser("score", help="ER / IP / EX / emotion fit of {history, reply} JSON lines.")
    score.add_argument("input", nargs="?", default="-", help="JSONL file of {history: [str], reply: str}; - = stdin.")
    score.add_argument("--model", help="Model folder (default: $EMPATHIC_EMPATHY_MODEL, else the cache).")
    score.set_defaults(func=_score)
