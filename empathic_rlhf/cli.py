"""The ``empathic`` command: parse arguments and call a stage. Nothing else lives here.

Each stage package adds its own subcommands through an ``add_commands(subparsers)`` function in its
``commands.py``; a subcommand sets ``func(args, overrides)`` where ``overrides`` are the ``--dotted.key=value``
config overrides left after argparse -- or, for a stage of a run, ``stage`` (see :mod:`empathic_rlhf.stage_cli`),
which this module hands to the pipeline's runner. Heavy libraries are only imported inside those functions, so
``empathic --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .distributed import refuse_under_launch
from .errors import EmpathicError

# Packages that contribute subcommands, in the order the pipeline runs.
COMMAND_MODULES = (
    "empathic_rlhf.data.commands",
    "empathic_rlhf.prepare.commands",
    "empathic_rlhf.models.commands",
    "empathic_rlhf.sft.commands",
    "empathic_rlhf.sample.commands",
    "empathic_rlhf.acquire.commands",
    "empathic_rlhf.evaluate.commands",
    "empathic_rlhf.chat.commands",
    "empathic_rlhf.label.commands",
    "empathic_rlhf.metrics.commands",
    "empathic_rlhf.reward.commands",
    "empathic_rlhf.dyme.commands",
    "empathic_rlhf.empathy.commands",
    "empathic_rlhf.judge.commands",
    "empathic_rlhf.battery.commands",
    "empathic_rlhf.rl.commands",
    "empathic_rlhf.dpo.commands",
    "empathic_rlhf.report.commands",
    "empathic_rlhf.pipeline.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="empathic",
        description="Teach a language model to answer empathetically, from human preferences.",
        epilog="Config overrides: any --section.key=value after the subcommand, e.g. --prepare.max_history_turns=3.",
    )
    parser.add_argument("--version", action="version", version=f"empathic-rlhf {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_commands(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, overrides = parser.parse_known_args(argv)
    func = args.func
    if getattr(args, "stage", None):  # a single-stage command: the pipeline runs it after what it needs
        from .pipeline.commands import run_one_stage

        func = run_one_stage
    try:
        if not getattr(args, "stage", None) and args.command != "run":
            refuse_under_launch(f"empathic {args.command}")  # only the run's stages know how to share the work
        result = func(args, overrides)
    except EmpathicError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to resume", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
