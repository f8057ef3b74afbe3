"""``empathic battery``: the robustness battery of any scorers on held-out ED contexts."""

from __future__ import annotations

import json
import sys


def _battery(args, overrides) -> int:
    from ..runtime import configure_cpu_runtime

    configure_cpu_runtime()
    from ..data.sources import resolve
    from ..scorers import load_scorer
    from .run import contexts_from_conversations, format_table, predicted_emotions, run_battery

    from ..empathy.build import default_ed_dir

    local = default_ed_dir()  # the data the yardsticks and the judge were built from, when it is here
    source = resolve(args.data_dir or (str(local) if local.is_dir() else None))
    contexts = contexts_from_conversations(source.read(args.split), history_turns=args.history_turns,
                                           limit=args.n)
    scorers = {spec: load_scorer(spec) for spec in args.scorers}
    predicted = predicted_emotions(contexts) if any(spec in ("empathy", "judge") for spec in args.scorers) else None
    result = run_battery(contexts, scorers, seed=args.seed, predicted_emotions=predicted,
                         log=lambda line: print(line, file=sys.stderr))
    print(format_table(result))
    if args.json:
        from ..io import write_json

        write_json(args.json, result)
    failing = sum(bool(row["failing"]) for row in result["scorers"].values())
    print(f"\n{failing} of {len(result['scorers'])} score columns fail some probe (> "
          f"{result['warn_above']:.0%} of contexts tie or beat gold)", file=sys.stderr)
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "battery", help="Does a scorer prefer the human reply to stock phrases, another conversation's reply, "
                        "parroting, degenerate strings? Per probe kind, the share of contexts gold wins [95%% CI].")
    p.add_argument("--scorers", nargs="+", default=["judge", "empathy", "static"],
                   help="Registry scorers (empathic_rlhf.scorers): judge, empathy, static, length, "
                        "reward_model:<dir>, dyme:<dir>, pmi:<lm dir>; each column is tabulated (default: judge "
                        "empathy static).")
    p.add_argument("--data-dir", help="EmpatheticDialogues folder (default: $EMPATHIC_DATA_DIR, else "
                                      "shared/data/empatheticdialogues/reconstructed beside the repository).")
    p.add_argument("--split", default="test", help="ED split of the contexts (default test: nothing trains on it).")
    p.add_argument("--n", type=int, default=300, help="Contexts: the first N listener turns (default 300).")
    p.add_argument("--history-turns", type=int, default=3, help="Previous utterances per context (default 3).")
    p.add_argument("--seed", type=int, default=0, help="Seed of the probes (default 0).")
    p.add_argument("--json", help="Also write the full result (every probe) to this JSON file.")
    p.set_defaults(func=_battery)
