"""``empathic metrics score``: utterance metrics and the static reward of (history, reply) pairs.

Input: JSON lines ``{"history": ["oldest", ..., "previous"], "reply": "..."}`` from a file or stdin.
Output: one JSON line per input with the metric vector, the oriented reward terms and the static reward.
"""

from __future__ import annotations

import json


def load_section(cls, section: str, config_file: str | None, overrides: list[str], options: dict | None = None):
    """Config ``cls`` from the ``section`` of a YAML file, the command's own flags, then ``--section.key=v``.

    Only ``--<section>.*`` overrides are accepted here: anything else is an error naming it, not silently ignored.
    """
    from ..config import load, parse_overrides, read_yaml
    from ..errors import EmpathicError

    file_layer = read_yaml(config_file).get(section) or {} if config_file else {}
    parsed = parse_overrides(overrides)
    other = sorted(set(parsed) - {section})
    if other:
        raise EmpathicError(f"this command reads only the {section!r} config section; got --{other[0]}...")
    return load(cls, layers=[file_layer, options or {}, parsed.get(section, {})])


def _score(args, overrides) -> int:
    from ..runtime import configure_cpu_runtime

    configure_cpu_runtime()
    from .config import StaticRewardConfig
    from .static_reward import TERM_NAMES, StaticReward, read_pairs
    from .vector import METRIC_NAMES, metric_vectors

    config = load_section(StaticRewardConfig, "static_reward", args.config, overrides)
    histories, replies = read_pairs(args.input or "-")
    reward = StaticReward(config)
    vectors, _ = metric_vectors(histories, replies, with_similarity=reward.needs_encoder)
    terms = reward.terms(histories, replies)
    totals = terms @ reward.weights
    for i in range(len(replies)):
        print(json.dumps({
            "history": histories[i], "reply": replies[i],
            "metrics": {n: round(float(v), 4) for n, v in zip(METRIC_NAMES, vectors[i])},
            "terms": {n: round(float(v), 4) for n, v in zip(TERM_NAMES, terms[i])},
            "static_reward": round(float(totals[i]), 4),
        }, ensure_ascii=False))
    return 0


def add_commands(subparsers) -> None:
    metrics = subparsers.add_parser("metrics", help="Utterance metrics and the static reward.")
    sub = metrics.add_subparsers(dest="metrics_command", metavar="<metrics-command>", required=True)
    score = sub.add_parser("score", help="Metrics + static reward of {history, reply} JSON lines (file or stdin).",
                           epilog="Weights: --static_reward.question_weight=0.3 etc.; see docs/metrics.md.")
    score.add_argument("input", nargs="?", default="-", help="JSONL file of {history: [str], reply: str}; - = stdin.")
    score.add_argument("--config", help="YAML file; its static_reward section is read.")
    score.set_defaults(func=_score)
