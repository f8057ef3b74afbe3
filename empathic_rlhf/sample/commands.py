"""``empathic sample``: k candidate replies per held-out context -> comparison tasks for the labelling app."""

from __future__ import annotations

from ..pipeline.commands import add_run_options, run_config_from


def _sample(args, overrides) -> int:
    from ..pipeline.run import run_with_needs

    config = run_config_from(args, overrides)
    entry = run_with_needs(config, "sample", force=args.force)
    print(f"tasks: {config.run_path / 'sample' / 'tasks.jsonl'}  {entry.get('summary', {})}")
    return 0


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("sample", help="Sample k candidate replies per held-out context (comparison "
                                                  "tasks for labelling).")
    add_run_options(parser)
    parser.set_defaults(func=_sample)
