"""``empathic rl``: online RL of π against the reward, with a KL penalty to π."""

from __future__ import annotations

import json

from ..pipeline.commands import add_run_options, run_config_from


def _rl(args, overrides) -> int:
    from ..pipeline.run import run_stage
    from ..pipeline.stages import stage_named

    config = run_config_from(args, overrides)
    entry = run_stage(config, stage_named("rl"), force=args.force)
    print(json.dumps(entry["summary"], indent=2))
    return 0


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("rl", help="RL (RLOO/GRPO) against the reward with a KL penalty to π (stage 4).")
    add_run_options(parser)
    parser.set_defaults(func=_rl)
