"""``empathic dyme train`` (the ``dyme`` stage of a run) and ``empathic dyme score``."""

from __future__ import annotations

import json
from pathlib import Path

from ..stage_cli import add_stage_command
from .stage import STAGE


def _score(args, overrides) -> int:
    from ..config import load_section
    from ..runtime import configure_cpu_runtime
    from .config import DymeConfig

    config = load_section(DymeConfig, "dyme", config_file=args.config, overrides=overrides)
    configure_cpu_runtime()
    from ..metrics.static_reward import read_pairs, static_reward
    from .score import DymeScorer

    source = args.input or "-"
    histories, replies = read_pairs(source)
    _check_histories(source, histories)
    model_dir = Path(args.model) if args.model else Path(args.runs_dir) / args.name / "dyme" / "model"
    scorer = DymeScorer(model_dir, reward_weights=config.reward_weights or None)
    records = scorer.score(histories, replies)
    statics = static_reward(histories, replies)  # beside DYME's, to see where the two disagree
    for history, reply, record, static in zip(histories, replies, records, statics):
        print(json.dumps({"history": history, "reply": reply, "dyme_reward": round(record.pop("reward"), 5),
                          "static_reward": round(static, 4), **record}, ensure_ascii=False))
    return 0


def _check_histories(source: str, histories: list[list[str]]) -> None:
    """DYME predicts the next utterance's metrics from the previous ones: every record needs a history."""
    from ..errors import EmpathicError

    name = "<stdin>" if source == "-" else source
    if not histories:
        raise EmpathicError(f"{name}: no records to score")
    for number, history in enumerate(histories, start=1):
        if not history:
            raise EmpathicError(f"{name}: record {number}: 'history' is empty; DYME scores a reply from at least "
                                f"one previous utterance")


def add_commands(subparsers) -> None:
    dyme = subparsers.add_parser("dyme", help="DYME: a learned dynamic metric of dialogue (train, score).")
    sub = dyme.add_subparsers(dest="dyme_command", metavar="<dyme-command>", required=True)
    add_stage_command(sub, STAGE, "Train DYME on ED train, select on valid, report MSE vs baselines on test "
                                    "(the dyme stage of a run: <runs-dir>/<name>/dyme).",
                      sections=("dyme", "data"))

    score = sub.add_parser("score", help="Predicted vs actual metrics and the DYME reward of {history, reply} "
                                         "JSON lines (file or stdin).",
                           epilog="Settings: --dyme.reward_weights='{question: 2}' etc.; see docs/dyme.md.")
    score.add_argument("input", nargs="?", default="-", help="JSONL of {history: [str], reply: str}; - = stdin.")
    score.add_argument("--model", help="DYME model folder (default: <runs-dir>/<name>/dyme/model).")
    score.add_argument("--config", help="YAML run config; its dyme section is read.")
    score.add_argument("--name", default="demo", help="Run whose DYME model is the default (default: demo).")
    score.add_argument("--runs-dir", default="runs", help="Folder of run directories (default: runs).")
    score.set_defaults(func=_score)
