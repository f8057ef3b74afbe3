"""``empathic run``: the whole loop on the embedded defaults (or a config file / profile)."""

from __future__ import annotations


def add_run_options(parser) -> None:
    """Options every run-directory command shares."""
    parser.add_argument("--config", help="YAML config file (sections: data, model, prepare, ...).")
    parser.add_argument("--profile", choices=("demo", "full"), help="Preset: demo (CPU smoke demo) or full (GPU).")
    parser.add_argument("--name", help="Run name (default: the profile's, 'demo').")
    parser.add_argument("--runs-dir", help="Folder of run directories (default: runs).")
    parser.add_argument("--data-dir", help="EmpatheticDialogues folder or archive (else $EMPATHIC_DATA_DIR, "
                                           "else download the official release).")
    parser.add_argument("--base-model", help="Embedded name, local folder or Hub id (default: smollm2-135m).")
    parser.add_argument("--force", action="store_true", help="Rerun stages even when up to date.")


def run_config_from(args, overrides):
    """The resolved RunConfig of a command's flags and ``--dotted.key=value`` overrides."""
    from ..runtime import configure_cpu_runtime
    from .config import load_run_config

    configure_cpu_runtime()
    options: dict = {}
    if args.name:
        options["name"] = args.name
    if args.runs_dir:
        options["runs_dir"] = args.runs_dir
    if args.data_dir:
        options["data"] = {"data_dir": args.data_dir}
    if args.base_model:
        options["model"] = {"base_model": args.base_model}
    return load_run_config(profile=args.profile, config_file=args.config, options=options, overrides=overrides)


def _run(args, overrides) -> int:
    from .run import run_pipeline

    from ..errors import WaitingForLabels

    config = run_config_from(args, overrides)
    try:
        entries = run_pipeline(config, force=args.force, until=args.until)
    except WaitingForLabels as waiting:
        print(f"\nthe run stops here: {waiting}")
        return 0
    print(f"\nrun directory: {config.run_path}")
    for name, entry in entries.items():
        print(f"  {name:<10} {entry['seconds']:>8.1f} s  {entry.get('summary', {})}")
    return 0


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("run", help="Run the whole loop (stages that are up to date are skipped).")
    add_run_options(parser)
    parser.add_argument("--until", help="Stop after this stage.")
    parser.set_defaults(func=_run)


def add_stage_command(subparsers, name: str, help_text: str, stage: str | None = None) -> None:
    """``empathic <name>``: run one stage (``stage``, default ``name``) after the stages it needs, when those are
    out of date, and print its summary."""
    stage = stage or name

    def command(args, overrides) -> int:
        import json

        from .run import run_with_needs

        config = run_config_from(args, overrides)
        entry = run_with_needs(config, stage, force=args.force)
        print(json.dumps({"stage": stage, "run": str(config.run_path), **entry.get("summary", {})}, indent=2,
                         default=str))
        return 0

    parser = subparsers.add_parser(name, help=help_text)
    add_run_options(parser)
    parser.set_defaults(func=command)
