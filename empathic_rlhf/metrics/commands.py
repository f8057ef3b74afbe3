"""``empathic metrics score``: utterance metrics and the static reward of (history, reply) pairs.

Input: JSON lines ``{"history": ["oldest", ..., "previous"], "reply": "..."}`` from a file or stdin.
Output: one JSON line per input with the metric vector, the oriented reward terms, the static reward and the
empathy yardsticks (``empathy``: ER / IP / EX expected level 0-2, their mean, emotion fit 0-1; see
docs/empathy.md; ``--no-empathy`` leaves them out).
"""

from __future__ import annotations

import json


def _score(args, overrides) -> int:
    from ..runtime import configure_cpu_runtime

    configure_cpu_runtime()
    from ..config import load_section
    from .config import StaticRewardConfig
    from .static_reward import TERM_NAMES, StaticReward, read_pairs
    from .vector import METRIC_NAMES, metric_vectors

    config = load_section(StaticRewardConfig, "static_reward", config_file=args.config, overrides=overrides)
    histories, replies = read_pairs(args.input or "-")
    reward = StaticReward(config)
    vectors, _ = metric_vectors(histories, replies, with_similarity=reward.needs_encoder)
    terms = reward.terms(histories, replies)
    totals = terms @ reward.weights
    empathy = _empathy_scores(histories, replies, args.empathy_model) if args.empathy else {}
    for i in range(len(replies)):
        record = {
            "history": histories[i], "reply": replies[i],
            "metrics": {n: round(float(v), 4) for n, v in zip(METRIC_NAMES, vectors[i])},
            "terms": {n: round(float(v), 4) for n, v in zip(TERM_NAMES, terms[i])},
            "static_reward": round(float(totals[i]), 4),
        }
        if empathy:
            record["empathy"] = {n: round(float(v[i]), 4) for n, v in empathy.items()}
        print(json.dumps(record, ensure_ascii=False))
    return 0


def _empathy_scores(histories, replies, model_dir):
    """ER / IP / EX / empathy / emotion_fit columns from the empathy scorer (built and cached on first use)."""
    from ..empathy import load_empathy_scorer

    return load_empathy_scorer(model_dir)(histories, replies)


def add_commands(subparsers) -> None:
    metrics = subparsers.add_parser("metrics", help="Utterance metrics and the static reward.")
    sub = metrics.add_subparsers(dest="metrics_command", metavar="<metrics-command>", required=True)
    score = sub.add_parser("score", help="Metrics + static reward of {history, reply} JSON lines (file or stdin).",
                           epilog="Weights: --static_reward.question_weight=0.3 etc.; see docs/metrics.md.")
    score.add_argument("input", nargs="?", default="-", help="JSONL file of {history: [str], reply: str}; - = stdin.")
    score.add_argument("--config", help="YAML file; its static_reward section is read.")
    score.add_argument("--no-empathy", dest="empathy", action="store_false",
                       help="Leave out the empathy columns (ER / IP / EX / emotion fit).")
    score.add_argument("--empathy-model", help="Empathy model folder (default: $EMPATHIC_EMPATHY_MODEL, else the "
                                               "cache, built on first use; see docs/empathy.md).")
    score.set_defaults(func=_score)
