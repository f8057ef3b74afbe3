"""``empathic acquire``: pick the sampled tasks people should label next (by an acquisition rule)."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap

from ..stage_cli import add_run_options, config_help

HELP = ("Pick the tasks of <run>/sample/tasks.jsonl that people should label next (the ones a cheap reward-model "
        "ensemble is least sure about) -> <run>/acquire/tasks.jsonl, for `empathic label import`.")


def _acquire(args, overrides) -> int:
    from .. import config as cfg
    from ..rundir import RunDir, Timer
    from ..stage_cli import run_config_from
    from . import stage

    config = run_config_from(args, overrides)
    # Not one of `empathic run`'s stages (the rounds loop calls select_tasks itself), and stage packages never
    # import the pipeline: so it records its own manifest entry here, the way the pipeline does for a stage, and
    # an unchanged rerun is skipped.
    run = RunDir(config.run_path)
    inputs = stage.inputs(config, run)
    own_config = {"seed": config.seed, **{name: cfg.to_dict(getattr(config, name)) for name in stage.SECTIONS}}
    digest = cfg.config_hash(own_config)
    if run.is_up_to_date("acquire", digest, inputs) and not args.force:
        print("[acquire] up to date, skipped (--force to rerun)", file=sys.stderr)
    else:
        with Timer() as timer:
            result = stage.run(config, run)
        run.record("acquire", digest, inputs, result["outputs"], timer.seconds, result.get("summary"),
                   config=own_config)
        run.save_config(cfg.to_dict(config))
    summary = run.manifest()["stages"]["acquire"].get("summary", {})
    print(json.dumps({"stage": "acquire", "run": str(config.run_path), **summary}, indent=2, default=str))
    return 0


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("acquire", help=HELP.split(" -> ")[0] + ".", description=textwrap.fill(HELP, 80),
                                   epilog=config_help(("acquire",)),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_options(parser)
    parser.set_defaults(func=_acquire)
