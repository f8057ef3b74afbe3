"""``empathic label ...``: serve the app, import tasks, invite people, export, terminal mode, compare, report,
simulated annotators, and the live chat's policy worker.

Every subcommand takes ``--name`` / ``--runs-dir`` (where the run directory is) or ``--db URL``, ``--config``
(a YAML file whose ``label:`` section sets LabelConfig) and ``--label.key=value`` overrides.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import EmpathicError
from .config import SIMULATED_ANNOTATORS, SIMULATED_KAPPA, SIMULATED_POSITION_BIAS, database_url


def _common(parser) -> None:
    parser.add_argument("--name", default="demo", help="Run name (default: demo).")
    parser.add_argument("--runs-dir", default="runs", help="Folder of run directories (default: runs).")
    parser.add_argument("--db", help="SQLAlchemy URL of the label DB (default sqlite:///<runs>/<name>/label/"
                                     "label.db; PostgreSQL: postgresql+psycopg://user:pw@host/db).")
    parser.add_argument("--config", help="YAML file; its `label:` section sets LabelConfig fields.")


def label_config(args, overrides):
    """LabelConfig from defaults < the --config YAML's ``label:`` section < explicit flags < --label.key=value."""
    from .. import config as cfg
    from .config import LabelConfig

    flags = {k: getattr(args, k) for k in ("host", "port") if getattr(args, k, None) is not None}
    if args.db:
        flags["db"] = args.db
    if getattr(args, "chat", False):
        flags["chat_enabled"] = True
    config = cfg.load_section(LabelConfig, "label", config_file=args.config, overrides=overrides, options=flags)
    config.db = database_url(config, labels_dir(args).parent)
    return config


def labels_dir(args) -> Path:
    return Path(args.runs_dir) / args.name / "label"


def _store(config):
    from .db import Store

    return Store(config.db, synchronous=config.sqlite_synchronous, wait_s=config.db_wait_seconds)


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
    if config.chat_enabled:
        print("live chat on: each invite link with /join/ replaced by /chat/; replies need `empathic label worker` "
              "running beside this server")
    app = create_app(store, config)
    app.state.reports.start()  # the statistics worker imports its libraries while the server starts
    # keep-alive 75 s: annotators pause for seconds between labels; reusing the connection saves a handshake each.
    # Stopping waits at most 5 s for requests in flight: a client that never finishes its request cannot hold the
    # server up (the tests' teardowns timed out after 10 s on a loaded machine).
    uvicorn.run(app, host=config.host, port=config.port, log_level=args.log_level,
                access_log=False, timeout_keep_alive=75, timeout_graceful_shutdown=5)
    return 0


def _import(args, overrides) -> int:
    from .tasks import import_records, read_tasks

    config = label_config(args, overrides)
    paths = args.tasks or [str(Path(args.runs_dir) / args.name / "sample" / "tasks.jsonl")]
    if not args.tasks and not Path(paths[0]).is_file():
        raise EmpathicError(f"{paths[0]}: the run has no sampled tasks yet (run `empathic sample --name {args.name}` "
                            "first, or name task files)")
    files = [(path, read_tasks(path)) for path in paths]  # every file read and checked before the database opens:
    store = _store(config)  # bad input creates no database
    for path, records in files:
        r = import_records(store, records, config)
        print(f"{path}: {r.added} added, {r.unchanged} already there"
              + (f", {r.differing} differ from the stored version (kept the stored one)" if r.differing else ""))
    return 0


def _invite(args, overrides) -> int:
    from .auth import invite, join_url

    config = label_config(args, overrides)
    token = invite(_store(config), args.annotator, admin=args.admin, rotate=args.rotate)
    # an admin token opens only the admin page: an admin who also labels gets a second, annotator invite
    print(join_url(_base_url(config), token, admin=args.admin))
    if config.chat_enabled and not args.admin:  # the same token opens the live-chat page
        print(f"{_base_url(config).rstrip('/')}/chat/{token}")
    return 0


def _worker(args, overrides) -> int:
    from .chat_worker import default_policy, run_worker

    config = label_config(args, overrides)
    model = args.model or config.chat_model or default_policy(args.runs_dir, args.name)
    return run_worker(_store(config), config, args.worker_name, model, batch=args.batch, poll_s=args.poll,
                      threads=args.threads, nice=args.nice)


def _revoke(args, overrides) -> int:
    from .auth import revoke

    print(revoke(_store(label_config(args, overrides)), args.annotator, admin_only=args.admin_only))
    return 0


def _delete(args, overrides) -> int:
    from .auth import delete

    print(delete(_store(label_config(args, overrides)), args.annotator))
    return 0


def _export(args, overrides) -> int:
    from .export import export

    config = label_config(args, overrides)
    out = Path(args.out) if args.out else labels_dir(args)
    counts = export(_store(config), out)
    print(f"{out}: {counts['labels']} labels, {counts['pairs']} pairs, {counts['tasks']} tasks "
          f"({counts['ties_and_skips']} ties/all bad/skips and {counts['evaluation_only']} model-comparison "
          "labels give no pairs)")
    return 0


def _terminal(args, overrides) -> int:
    from .terminal import run_terminal

    config = label_config(args, overrides)
    return run_terminal(_store(config), config, args.annotator)


def _report(args, overrides) -> int:
    import json

    from .progress import format_stats, stats

    st = stats(_store(label_config(args, overrides)))
    print(json.dumps(st, indent=2) if args.json else format_stats(st))
    return 0


def _simulate(args, overrides) -> int:
    from .export import export
    from .simulate import format_summary, simulate

    config = label_config(args, overrides)
    store = _store(config)
    out = Path(args.out) if args.out else labels_dir(args)
    summary = simulate(store, config, oracle=args.oracle, annotators=args.annotators,
                       kappa=None if args.temperature is not None else args.kappa, temperature=args.temperature,
                       position_bias=args.position_bias, max_labels=args.max_labels, seed=args.seed,
                       score_cache=labels_dir(args) / "simulate_scores.jsonl")
    print(format_summary(summary))
    counts = export(store, out)  # its labels are marked synthetic:<oracle> there, from the annotators' kind
    print(f"{out}: {counts['labels']} labels, {counts['pairs']} pairs, {counts['tasks']} tasks exported")
    return 0


def _compare_build(args, overrides) -> int:
    from ..config import reject_overrides
    from .compare import build_tasks

    reject_overrides(overrides, "label compare build")
    run = Path(args.runs_dir) / args.name
    evaluation = args.evaluation or run / "evaluate" / "samples.jsonl"
    out = args.out or run / "label" / "compare_tasks.jsonl"
    n = build_tasks(evaluation, out, baseline=args.baseline, models=args.models, seed=args.seed)
    print(f"{out}: {n} model-comparison tasks (each against {args.baseline}); "
          f"load them with `empathic label import {out}`")
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
    _add_app_commands(sub)
    _add_people_commands(sub)
    _add_label_commands(sub)
    _add_compare_commands(sub)


def _add_app_commands(sub) -> None:
    """``label serve`` (the web app) and ``label worker`` (the live chat's policy)."""
    p = sub.add_parser("serve", help="Start the labelling web app.")
    _common(p)
    p.add_argument("--host", help="Listen address (default 127.0.0.1).")
    p.add_argument("--port", type=int, help="Port (default 8765).")
    p.add_argument("--admin-link", action="store_true", help="Create a fresh admin and print its link.")
    p.add_argument("--chat", action="store_true", default=None,
                   help="Serve the live-chat page too (label.chat_enabled; run `label worker` beside it).")
    p.add_argument("--log-level", default="warning", help="uvicorn's log level (default warning).")
    p.set_defaults(func=_serve)

    p = sub.add_parser("worker", help="Run the policy for the live chat (a separate process from `serve`).")
    _common(p)
    p.add_argument("--worker-name", default="worker", help="This worker's name, recorded on the jobs it serves.")
    p.add_argument("--model", help="Policy folder, embedded name or Hub id (default label.chat_model, else the "
                                   "run's rl/model, else sft/model).")
    p.add_argument("--batch", type=int, default=8, help="Most reply jobs generated together (default 8).")
    p.add_argument("--poll", type=float, default=0.2, help="Seconds between looks at an empty queue (default 0.2).")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default 0: torch's own choice; fewer "
                                                         "leaves cores to the web server).")
    p.add_argument("--nice", type=int, default=10, help="Lower the worker's CPU priority by this much (default "
                                                        "10: the web server's requests go first; 0: unchanged).")
    p.set_defaults(func=_worker)


def _add_people_commands(sub) -> None:
    """Tasks and people: ``label import``, ``invite``, ``revoke``, ``delete``."""
    p = sub.add_parser("import", help="Load comparison tasks (idempotent: re-importing adds nothing).")
    _common(p)
    p.add_argument("tasks", nargs="*", help="Task JSONL files (default <run>/sample/tasks.jsonl).")
    p.set_defaults(func=_import)

    p = sub.add_parser("invite", help="Create an annotator and print their secret invite link.")
    _common(p)
    p.add_argument("annotator", help="Annotator name.")
    p.add_argument("--admin", action="store_true", help="An admin: the link opens the admin page (only).")
    p.add_argument("--rotate", action="store_true", help="Issue a new link for an existing annotator.")
    p.add_argument("--host", help="Host of the printed link (default: the label config's host).")
    p.add_argument("--port", type=int, help="Port of the printed link (default: the label config's port).")
    p.set_defaults(func=_invite)

    p = sub.add_parser("revoke", help="Make a person's link stop working (labels kept), or drop admin rights.")
    _common(p)
    p.add_argument("annotator", help="Annotator name.")
    p.add_argument("--admin-only", action="store_true",
                   help="Drop an admin's rights: their admin link (admin pages only) stops working and never "
                        "becomes a labelling link; `label invite NAME --rotate` then issues one.")
    p.set_defaults(func=_revoke)

    p = sub.add_parser("delete", help="Remove a person who has no labels (their reservations are released).")
    _common(p)
    p.add_argument("annotator", help="Annotator name.")
    p.set_defaults(func=_delete)


def _add_label_commands(sub) -> None:
    """Labels: ``label export``, ``terminal``, ``report``, ``simulate``."""
    p = sub.add_parser("export", help="Write labels.jsonl, pairs.jsonl and tasks.jsonl.")
    _common(p)
    p.add_argument("--out", help="Folder (default <run>/label).")
    p.set_defaults(func=_export)

    p = sub.add_parser("terminal", help="Label in the terminal (same tasks and database as the web app).")
    _common(p)
    p.add_argument("--annotator", required=True, help="Your name (created on first use).")
    p.set_defaults(func=_terminal)

    p = sub.add_parser("report", help="Progress, speed, gold accuracy, agreement and position bias.")
    _common(p)
    p.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    p.set_defaults(func=_report)

    p = sub.add_parser("simulate", help="Simulated annotators label the tasks by an oracle, through the same "
                                        "database and rules as people (dry runs; labels marked synthetic).")
    _common(p)
    p.add_argument("--oracle", required=True, help="Scorer that judges replies: judged_empathy (the judge that reads "
                                                   "the conversation), context_fit, empathy, static, length, er, ip, "
                                                   "ex, emotion_fit, reward_model:<dir>, dyme:<dir>, pmi:<lm dir>.")
    p.add_argument("--annotators", type=int, default=SIMULATED_ANNOTATORS,
                   help=f"Simulated annotators (default {SIMULATED_ANNOTATORS}).")
    p.add_argument("--kappa", type=float, default=SIMULATED_KAPPA, help=f"Cohen's kappa two of them reach (default "
                                                                        f"{SIMULATED_KAPPA}, as people did on this "
                                                                        "task); sets the noise.")
    p.add_argument("--temperature", type=float, help="Choice noise in the oracle's units (instead of --kappa).")
    p.add_argument("--position-bias", type=float, default=SIMULATED_POSITION_BIAS,
                   help=f"Logit bonus of the reply shown first (default {SIMULATED_POSITION_BIAS}).")
    p.add_argument("--max-labels", type=int, help="Stop once they hold this many labels in all (default: until "
                                                  "no task is left).")
    p.add_argument("--seed", type=int, default=0, help="Seed of their choices (default 0).")
    p.add_argument("--out", help="Export folder written at the end (default <run>/label).")
    p.set_defaults(func=_simulate)


def _add_compare_commands(sub) -> None:
    """``label compare build`` / ``label compare report``: model comparisons."""
    cmp_parser = sub.add_parser("compare", help="Model comparison: build pairwise tasks, or report the results.")
    cmp_sub = cmp_parser.add_subparsers(dest="compare_command", metavar="<build|report>", required=True)
    p = cmp_sub.add_parser("build", help="Pairwise tasks (each model vs a baseline) from an evaluation's samples.")
    p.add_argument("--name", default="demo", help="Run name (default: demo).")
    p.add_argument("--runs-dir", default="runs", help="Folder of run directories (default: runs).")
    p.add_argument("--evaluation", help="evaluate's samples.jsonl (default <run>/evaluate/samples.jsonl).")
    p.add_argument("--baseline", default="sft", help="The model every other is compared with (default sft, π).")
    p.add_argument("--models", nargs="+", help="Models to compare (default: all but the baseline; `gold` = the "
                                               "dataset's own reply).")
    p.add_argument("--seed", type=int, default=0, help="Seed of the A/B order (default 0).")
    p.add_argument("--out", help="Task JSONL to write (default <run>/label/compare_tasks.jsonl).")
    p.set_defaults(func=_compare_build)
    p = cmp_sub.add_parser("report", help="Per criterion: win rate (ties excluded), n, binomial p, Wilson CI.")
    _common(p)
    p.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    p.set_defaults(func=_compare_report)


def main(argv: list[str] | None = None) -> int:
    """``python -m empathic_rlhf.label <label command>``: the label commands without the rest of the CLI
    (used by the load benchmark and the tests to start a server in its own process)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m empathic_rlhf.label")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args, overrides = parser.parse_known_args(["label", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args, overrides) or 0)
    except EmpathicError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
