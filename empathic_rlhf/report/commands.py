"""``empathic report``: (re)build ``<run>/report.html`` from the run directory."""

from __future__ import annotations

from ..pipeline.commands import add_run_options, run_config_from


def _report(args, overrides) -> int:
    from .build import build_report

    config = run_config_from(args, overrides)
    print(build_report(config.run_path))
    return 0


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("report", help="Build the self-contained HTML report of a run.")
    add_run_options(parser)
    parser.set_defaults(func=_report)
