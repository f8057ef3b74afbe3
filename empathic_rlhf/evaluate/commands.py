"""``empathic evaluate``: perplexity, BLEU, distinct-n and length of several models on the test split."""

from __future__ import annotations

from ..pipeline.commands import add_run_options, run_config_from


def _evaluate(args, overrides) -> int:
    from ..pipeline.run import run_with_needs

    config = run_config_from(args, overrides)
    run_with_needs(config, "evaluate", force=args.force)
    print(f"table: {config.run_path / 'evaluate' / 'table.md'}")
    return 0


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("evaluate", help="Automatic metrics of several models side by side (test split).")
    add_run_options(parser)
    parser.set_defaults(func=_evaluate)
