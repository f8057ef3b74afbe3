"""``empathic sft``: fine-tune π on the prepared samples (``prepare`` runs first when it is not up to date)."""

from __future__ import annotations

from ..pipeline.commands import add_run_options, run_config_from


def _sft(args, overrides) -> int:
    from ..pipeline.run import run_with_needs

    config = run_config_from(args, overrides)
    entry = run_with_needs(config, "sft", force=args.force)
    print(f"π: {config.run_path / 'sft' / 'model'}  {entry.get('summary', {})}")
    return 0


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("sft", help="Fine-tune π on the prepared samples (TRL SFTTrainer, full or LoRA).")
    add_run_options(parser)
    parser.set_defaults(func=_sft)
