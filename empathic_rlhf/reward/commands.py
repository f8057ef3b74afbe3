"""``empathic reward train`` and ``empathic reward score``."""

from __future__ import annotations

import json

from ..stage_cli import add_stage_command
from .stage import STAGE


def _score(args, overrides) -> int:
    from ..config import reject_overrides
    from ..runtime import configure_cpu_runtime
    from .model import check_reward_model_folder

    reject_overrides(overrides, "reward score")
    check_reward_model_folder(args.model)  # before the input is read and the libraries load: fails in milliseconds
    configure_cpu_runtime()
    from .model import RewardModel
    from .scoring import read_score_requests

    requests = read_score_requests(args.input)
    model = RewardModel.load(args.model)
    scores = model.score([r["prompt"] for r in requests], [r["reply"] for r in requests],
                         normalized=not args.raw)
    for request, score in zip(requests, scores):
        print(json.dumps({**request["record"], "reward": round(score, 6)}, ensure_ascii=False))
    return 0


def add_commands(subparsers) -> None:
    reward = subparsers.add_parser("reward", help="Reward model: train on labels, score replies.")
    sub = reward.add_subparsers(dest="reward_command", metavar="<reward-command>", required=True)
    add_stage_command(sub, STAGE, "Train the reward model of a run (stage 3).", sections=("reward", "model", "prepare"))
    score = sub.add_parser("score", help="Score (context, reply) pairs: JSONL in, JSONL with 'reward' out.")
    score.add_argument("--model", required=True, help="Reward model folder written by `reward train`, e.g. "
                                                     "runs/demo/reward/model (it holds normalization.json).")
    score.add_argument("--input", default="-", help="JSONL file, or - for stdin. Each line: {history: [...] or "
                                                    "prompt: [messages], reply: str}.")
    score.add_argument("--raw", action="store_true", help="Raw head outputs instead of normalised scores.")
    score.set_defaults(func=_score)
