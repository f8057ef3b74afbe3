"""``empathic dyme train`` and ``empathic dyme score``."""

from __future__ import annotations

import json
from pathlib import Path


def _stage_dir(args) -> Path:
    return Path(args.runs_dir or "runs") / (args.name or "demo") / "dyme"


def _config(args, overrides):
    from ..metrics.commands import load_section
    from .config import DymeConfig

    options = {"data_dir": args.data_dir} if getattr(args, "data_dir", None) else {}
    return load_section(DymeConfig, "dyme", args.config, overrides, options)


def _train(args, overrides) -> int:
    from ..runtime import configure_cpu_runtime

    configure_cpu_runtime()
    from .train import run_train

    out = _stage_dir(args)
    result = run_train(_config(args, overrides), out)
    print(f"\nbest epoch {result['best_epoch']}; timings {result['timings']}  ->  {out}")
    return 0


def _score(args, overrides) -> int:
    from ..runtime import configure_cpu_runtime

    configure_cpu_runtime()
    from ..metrics.static_reward import read_pairs, static_reward
    from .score import DymeScorer

    cfg = _config(args, overrides)
    model_dir = Path(args.model) if args.model else _stage_dir(args) / "model"
    scorer = DymeScorer(model_dir, reward_weights=cfg.reward_weights or None)
    histories, replies = read_pairs(args.input or "-")
    records = scorer.score(histories, replies)
    statics = static_reward(histories, replies)  # beside DYME's, to see where the two disagree
    for history, reply, record, static in zip(histories, replies, records, statics):
        print(json.dumps({"history": history, "reply": reply, "dyme_reward": round(record.pop("reward"), 5),
                          "static_reward": round(static, 4), **record}, ensure_ascii=False))
    return 0


def add_commands(subparsers) -> None:
    dyme = subparsers.add_parser("dyme", help="DYME: a learned dynamic metric of dialogue (train, score).")
    sub = dyme.add_subparsers(dest="dyme_command", metavar="<dyme-command>", required=True)

    def common(parser):
        parser.add_argument("--config", help="YAML file; its dyme section is read.")
        parser.add_argument("--name", help="Run name: writes/reads <runs-dir>/<name>/dyme (default: demo).")
        parser.add_argument("--runs-dir", help="Folder of run directories (default: runs).")

    train = sub.add_parser("train", help="Train DYME on ED train, select on valid, report MSE vs baselines on test.",
                           epilog="Settings: --dyme.key=value, e.g. --dyme.max_epochs=10; see docs/dyme.md.")
    common(train)
    train.add_argument("--data-dir", help="EmpatheticDialogues folder (else $EMPATHIC_DATA_DIR).")
    train.set_defaults(func=_train)

    score = sub.add_parser("score", help="Predicted vs actual metrics and the DYME reward of {history, reply} "
                                         "JSON lines (file or stdin).")
    common(score)
    score.add_argument("input", nargs="?", default="-", help="JSONL of {history: [str], reply: str}; - = stdin.")
    score.add_argument("--model", help="DYME model folder (default: <runs-dir>/<name>/dyme/model).")
    score.set_defaults(func=_score)
