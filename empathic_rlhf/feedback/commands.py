"""``empathic label ...``: serve the app, import tasks, invite people, export, terminal mode, compare, report.

Every subcommand takes ``--name`` / ``--runs-dir`` (where the run directory is) or ``--db URL``, ``--config``
(a YAML file whose ``label:`` section sets LabelConfig) and ``--label.key=value`` overrides.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import EmpathicError


def _common(parser) -> None:
    parser.add_argument("--name", default="demo", help="Run name (default: demo).")
    parser.add_argument("--runs-dir", default="runs", help="Folder of run directories (default: runs).")
    parser.add_argument("--db", help="SQLAlchemy URL of the label DB (default sqlite:///<runs>/<name>/labels/"
                                     "feedback.db; PostgreSQL: postgresql+psycopg://user:pw@host/db).")
    parser.add_argument("--config", help="YAML file; its `label:` section sets LabelConfig fields.")


def label_config(args, overrides):
    """LabelConfig from defaults < --config YAML < --label.key=value < explicit flags."""
    from .. import config as cfg
    from .config import LabelConfig

    layers = [cfg.read_yaml(args.config).get("label", {})] if args.config else []
    extra = cfg.parse_overrides(overrides)
    unknown = [k for k in extra if k != "label"]
    if unknown:
        raise EmpathicError(f"unknown override section(s) {unknown}: label commands take --label.key=value")
    layers.append(extra.get("label", {}))
    flags = {k: getattr(args, k) for k in ("host", "port") if getattr(args, k, None) is not None}
    if args.db:
        flags["db"] = args.db
    layers.append(flags)
    config = cfg.load(LabelConfig, layers=layers)
    if not config.db:
        config.db = f"sqlite:///{Path(args.runs_dir) / args.name / 'labels' / 'feedback.db'}"
    return config


def labels_dir(args) -> Path:
    return Path(args.runs_dir) / args.name / "labels"


def _store(config):
    from .db import Store

    return Store(config.db, synchronous=config.sqlite_synchronous)


def _base_url(config) -> str:
    return config.public_url or f"http://{config.host}:{config.port}"


def _serve(args, overrides) -> int:
    import secrets

    import uvicorn

    from .app import create_app
    from .auth import invite, join_url

    config = label_config(args, overrides)
    store = _store(config)
    if args.admin_link:
        name = f"admin-{secrets.token_hex(3)}"
        print(f"admin page: {join_url(_base_url(config), invite(store, name, admin=True), admin=True)}")
    print(f"serving {config.db} on {_base_url(config)} (Ctrl-C to stop)")
    # keep-alive 75 s: annotators pause for seconds between labels; reusing the connection saves a handshake each
    uvicorn.run(create_app(store, config), host=config.host, port=config.port, log_level=args.log_level,
                access_log=False, timeout_keep_alive=75)
    return 0


def _import(args, overrides) -> int:
    from .tasks import import_tasks

    config = label_config(args, overrides)
    store = _store(config)
    paths = args.tasks or [str(Path(args.runs_dir) / args.name / "sample" / "tasks.jsonl")]
    for path in paths:
        r = import_tasks(store, path, config)
        print(f"{path}: {r.added} added, {r.unchanged} already there"
              + (f", {r.differing} differ from the stored version (kept the stored one)" if r.differing else ""))
    return 0


def _invite(args, overrides) -> int:
    from .auth import invite, join_url

    config = label_config(args, overrides)
    token = invite(_store(config), args.annotator, admin=args.admin, rotate=args.rotate)
    print(join_url(_base_url(config), token))
    if args.admin:
        print(join_url(_base_url(config), token, admin=True))
    return 0


def _export(args, overrides) -> int:
    from .export import export

    config = label_config(args, overrides)
    out = Path(args.out) if args.out else labels_dir(args)
    counts = export(_store(config), out, config)
    print(f"{out}: {counts['labels']} labels, {counts['pairs']} pairs, {counts['tasks']} tasks")
    return 0


def _terminal(args, overrides) -> int:
    from .terminal import run_terminal

    config = label_config(args, overrides)
    return run_terminal(_store(config), config, args.annotator)


def _report(args, overrides) -> int:
    import json

    from .report import format_stats, stats

    st = stats(_store(label_config(args, overrides)))
    print(json.dumps(st, indent=2) if args.json else format_stats(st))
    return 0


def _compare_build(args, overrides) -> int:
    from .compare import build_tasks

    n = build_tasks(args.a, args.b, args.out, args.name_a, args.name_b)
    print(f"{args.out}: {n} model-comparison tasks ({args.name_a} vs {args.name_b}); "
          f"load them with `empathic label import {args.out}`")
    return 0


def _compare_report(args, overrides) -> int:
    import json

    from .compare import format_report, report

    rows = report(_store(label_config(args, overrides)))
    print(json.dumps(rows, indent=2) if args.json else format_report(rows))
    return 0


def add_commands(subparsers) -> None:
    label = subparsers.add_parser("label", help="Human feedback: web app, terminal mode, import/export, reports.")
    sub = label.add_subparsers(dest="label_command", metavar="<label command>", required=True)

    p = sub.add_parser("serve", help="Start the labelling web app.")
    _common(p)
    p.add_argument("--host", help="Listen address (default 127.0.0.1).")
    p.add_argument("--port", type=int, help="Port (default 8765).")
    p.add_argument("--admin-link", action="store_true", help="Create a fresh admin and print its link.")
    p.add_argument("--log-level", default="warning")
    p.set_defaults(func=_serve)

    p = sub.add_parser("import", help="Load comparison tasks (idempotent: re-importing adds nothing).")
    _common(p)
    p.add_argument("tasks", nargs="*", help="Task JSONL files (default <run>/sample/tasks.jsonl).")
    p.set_defaults(func=_import)

    p = sub.add_parser("invite", help="Create an annotator and print their secret invite link.")
    _common(p)
    p.add_argument("annotator", help="Annotator name.")
    p.add_argument("--admin", action="store_true", help="May also open the admin page.")
    p.add_argument("--rotate", action="store_true", help="Issue a new link for an existing annotator.")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=_invite)

    p = sub.add_parser("export", help="Write labels.jsonl, pairs.jsonl and tasks.jsonl.")
    _common(p)
    p.add_argument("--out", help="Folder (default <run>/labels).")
    p.set_defaults(func=_export)

    p = sub.add_parser("terminal", help="Label in the terminal (same tasks and database as the web app).")
    _common(p)
    p.add_argument("--annotator", required=True, help="Your name (created on first use).")
    p.set_defaults(func=_terminal)

    p = sub.add_parser("report", help="Progress, speed, gold accuracy, agreement and position bias.")
    _common(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_report)

    cmp_parser = sub.add_parser("compare", help="Model comparison: build pairwise tasks, or report the results.")
    cmp_sub = cmp_parser.add_subparsers(dest="compare_command", metavar="<build|report>", required=True)
    p = cmp_sub.add_parser("build", help="Pairwise tasks from two models' Sample JSONL on the same contexts.")
    p.add_argument("a", help="Samples of model A.")
    p.add_argument("b", help="Samples of model B.")
    p.add_argument("--name-a", required=True)
    p.add_argument("--name-b", required=True)
    p.add_argument("--out", required=True, help="Task JSONL to write.")
    p.set_defaults(func=_compare_build)
    p = cmp_sub.add_parser("report", help="Per criterion: win rate (ties excluded), n, binomial p, Wilson CI.")
    _common(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_compare_report)


def main(argv: list[str] | None = None) -> int:
    """``python -m empathic_rlhf.feedback <label command>``: the label commands without the rest of the CLI
    (used by the load benchmark and the tests to start a server in its own process)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m empathic_rlhf.feedback")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args, overrides = parser.parse_known_args(["label", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args, overrides) or 0)
    except EmpathicError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
