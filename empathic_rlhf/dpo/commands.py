"""``empathic dpo``: offline preference optimisation from the labels, starting from π."""

from __future__ import annotations

import json

from ..pipeline.commands import add_run_options, run_config_from


def _dpo(args, overrides) -> int:
    from ..pipeline.run import run_stage
    from ..pipeline.stages import stage_named

    config = run_config_from(args, overrides)
    entry = run_stage(config, stage_named("dpo"), force=args.force)
    print(json.dumps(entry["summary"], indent=2))
    return 0


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("dpo", help="DPO from the pairwise labels, starting from π (stage 4, offline).")
    add_run_options(parser)
    parser.set_defaults(func=_dpo)
