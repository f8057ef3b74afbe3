"""``empathic run`` (the whole loop) and the runner behind every single-stage command (``empathic sft`` ...).

A stage package declares its command with :func:`empathic_rlhf.stage_cli.add_stage_command`, which sets
``args.stage``; the top-level CLI then calls :func:`run_one_stage` here.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap

from ..distributed import is_main_process
from ..stage_cli import SHARED_SECTIONS, add_run_options, config_help, run_config_from
from .launch import add_launcher_options
from .stages import STAGE_NAMES


def _run(args, overrides) -> int:
    from ..errors import WaitingForLabels
    from .launch import launcher_from_args
    from .run import run_pipeline

    launcher = launcher_from_args(args)  # a bad flag combination fails before the config loads
    if args.rounds is not None:  # --rounds N is --rounds.count=N (an explicit --rounds.count=... after it wins)
        overrides = [f"--rounds.count={args.rounds}", *overrides]
    config = run_config_from(args, overrides)
    if args.force:
        print(f"--force: rerunning every stage{f' up to {args.until}' if args.until else ''}, up to date or not",
              file=sys.stderr)
    try:
        entries = run_pipeline(config, force=args.force, until=args.until, launcher=launcher)
    except WaitingForLabels as waiting:
        print(f"\nthe run stops here: {waiting}")
        return 0
    if not is_main_process():  # under `accelerate launch ... run`: one summary, from the main process
        return 0
    print(f"\nrun directory: {config.run_path}")
    for name, entry in entries.items():
        print(f"  {name:<10} {entry['seconds']:>8.1f} s  "
              f"{json.dumps(rounded(entry.get('summary', {})), ensure_ascii=False, default=str)}")
    return 0


def rounded(value, digits: int = 4):
    """A summary as people read it: every float to ``digits`` significant digits (0.48484848484848486 -> 0.4848;
    from 1,000 up, to one decimal), nested ones too; the manifest keeps the full values."""
    if isinstance(value, float):
        return round(value, 1) if abs(value) >= 10 ** (digits - 1) else float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {key: rounded(inner, digits) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(inner, digits) for inner in value]
    return value


def run_one_stage(args, overrides) -> int:
    """``empathic <stage>``: the stages it needs (when out of date), then the stage; prints its summary."""
    from .run import needed_stages, run_with_needs

    config = run_config_from(args, overrides)
    reject_unread_sections(overrides, config, args.stage, getattr(args, "config_sections", ()))
    if args.force:
        before = needed_stages(config, args.stage)[:-1]
        print(f"--force: rerunning {args.stage}" + (f" ({', '.join(before)} only if out of date)" if before else ""),
              file=sys.stderr)
    entry = run_with_needs(config, args.stage, force=args.force)
    if not is_main_process():  # under `accelerate launch`: one summary, from the main process
        return 0
    print(json.dumps({"stage": args.stage, "run": str(config.run_path), **rounded(entry.get("summary", {}))},
                     indent=2, ensure_ascii=False, default=str))
    return 0


def reject_unread_sections(overrides: list[str], config, stage: str, shown: tuple[str, ...]) -> None:
    """An override of a config section that ``stage``'s command reads neither itself (the sections its --help
    lists, with model and data) nor through a stage it runs first is an error (it would be saved in the run's
    config.yaml and used by nothing). Top-level keys (seed, keep_checkpoints) are always read."""
    import dataclasses

    from .. import config as cfg
    from ..errors import EmpathicError
    from ..run_config import RunConfig
    from .run import needed_stages
    from .stages import stage_named

    sections = {f.name for f in dataclasses.fields(RunConfig) if dataclasses.is_dataclass(f.default_factory)}
    read = {*shown, *SHARED_SECTIONS, *(s for name in needed_stages(config, stage) for s in stage_named(name).sections)}
    for key in cfg.parse_overrides(overrides):
        if key in sections and key not in read:
            given = next(o for o in overrides if o.startswith(f"--{key}.") or o.startswith(f"--{key}="))
            command = " ".join(stage_named(stage).command)
            raise EmpathicError(f"empathic {command} does not read the {key!r} config section ({given}): it reads "
                                f"{', '.join(sorted(read & sections))}")


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="Run the whole loop (stages that are up to date are skipped).",
        description=textwrap.fill(f"Run the stages in order: {' -> '.join(STAGE_NAMES)} (dyme only when a reward "
                                  "uses it); each is skipped when its config and inputs did not change.", 80),
        epilog=config_help(None), formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_options(parser, force_help="Rerun every stage (up to --until) even when it is up to date.")
    parser.add_argument("--until", choices=STAGE_NAMES, metavar="STAGE",
                        help=f"Stop after this stage (one of {', '.join(STAGE_NAMES)}).")
    parser.add_argument("--rounds", type=int, metavar="N",
                        help="Run the loop N times (same as --rounds.count=N; docs/rounds.md): rounds 2..N sample from "
                             "the last policy, select and label tasks, refresh the reward model, continue RL.")
    add_launcher_options(parser)
    parser.set_defaults(func=_run)
