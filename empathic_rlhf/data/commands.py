"""``empathic data stats`` (``empathic prepare`` is the ``prepare`` package's command)."""

from __future__ import annotations

import json

from .config import SPLITS


def _stats(args, overrides) -> int:
    from ..config import reject_overrides
    from ..paths import data_dir_setting
    from .sources import resolve
    from .stats import format_split_stats, split_stats

    reject_overrides(overrides, "data stats")
    source = resolve(data_dir_setting(args.data_dir))
    result = {split: split_stats(source, split, args.max_history_turns) for split in args.splits}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"# {source.folder} ({source.kind})")
        for split, stats in result.items():
            print(format_split_stats(split, stats))
    return 0


def add_commands(subparsers) -> None:
    data = subparsers.add_parser("data", help="Inspect EmpatheticDialogues.")
    data_sub = data.add_subparsers(dest="data_command", metavar="<data-command>", required=True)
    stats = data_sub.add_parser("stats", help="Conversations, turns, replies, emotion and history histograms.")
    stats.add_argument("--data-dir", help="Data folder or archive (else $EMPATHIC_DATA_DIR, else download).")
    stats.add_argument("--splits", nargs="+", default=["train", "valid", "test"], choices=SPLITS,
                       help="Splits to count (default: all three).")
    stats.add_argument("--max-history-turns", type=int, default=5, help="Cap of the history histogram.")
    stats.add_argument("--json", action="store_true", help="Print JSON instead of text.")
    stats.set_defaults(func=_stats)
