"""The command-line pieces every run-directory command shares: the run options, the config resolved from them, and
``--help`` text generated from the config dataclasses (each field's ``metadata["help"]`` and default).

It sits below both the stage packages and ``pipeline``: a stage's ``commands.py`` declares its command here
(:func:`add_stage_command`), and the top-level CLI hands such a command to the pipeline's runner
(``args.stage`` names the stage). So ``pipeline`` imports the stages, never the other way round.
"""

from __future__ import annotations

import argparse
import dataclasses
import textwrap

HELP_WIDTH = 100
# Sections every stage command shows in its --help besides its own: they decide where and from what it runs.
SHARED_SECTIONS = ("model", "data")


def add_run_options(parser, *, force_help: str = "Rerun this stage even when it is up to date (the stages it "
                                                  "needs still run only when out of date).") -> None:
    """Options every run-directory command shares."""
    parser.add_argument("--config", help="YAML config file: top-level keys are the sections shown below "
                                         "(data, model, prepare, sft, ...).")
    from .run_config import PROFILES

    parser.add_argument("--profile", choices=PROFILES, help="Preset: demo (CPU smoke demo), results (~2 h on a "
                                                            "laptop CPU, real numbers) or full (GPU).")
    parser.add_argument("--name", help="Run name: outputs go to <runs-dir>/<name>/ (default: demo).")
    parser.add_argument("--runs-dir", help="Folder of run directories (default: runs).")
    parser.add_argument("--data-dir", help="EmpatheticDialogues folder or archive (else $EMPATHIC_DATA_DIR, "
                                           "else download the official release).")
    parser.add_argument("--base-model", help="Embedded name, local folder or Hub id (default: smollm2-135m).")
    parser.add_argument("--force", action="store_true", help=force_help)


def run_config_from(args, overrides):
    """The resolved RunConfig of a command's flags and ``--dotted.key=value`` overrides."""
    from .run_config import load_run_config
    from .runtime import configure_cpu_runtime

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


def _default_text(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "required"
    return repr(value) if isinstance(value, str) else str(value).replace("'", "")


def _section_class(f: dataclasses.Field):
    """The dataclass a field holds as a nested section, or None for a plain value."""
    factory = f.default_factory
    return factory if isinstance(factory, type) and dataclasses.is_dataclass(factory) else None


def describe_fields(cls, prefix: str, *, recurse: bool = True) -> list[str]:
    """Help lines of every field of dataclass ``cls``: ``--prefix.key=TYPE (default: ...)`` then its help text;
    nested dataclasses are described in turn (``recurse``) or left out."""
    lines: list[str] = []
    for f in dataclasses.fields(cls):
        dotted = f"{prefix}{f.name}"
        nested = _section_class(f)
        if nested is not None:
            lines.extend(describe_fields(nested, f"{dotted}.") if recurse else [])
            continue
        type_name = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        lines.append(f"  --{dotted}={type_name}  (default: {_default_text(f)})")
        help_text = f.metadata.get("help", "")
        lines.extend(textwrap.wrap(help_text, HELP_WIDTH, initial_indent=" " * 6, subsequent_indent=" " * 6))
    return lines


def config_help(sections: tuple[str, ...] | None) -> str:
    """The config keys of ``sections`` of the run config (all of them, top-level keys first, for ``None``)."""
    from .run_config import RunConfig

    classes = {f.name: _section_class(f) for f in dataclasses.fields(RunConfig)}
    blocks = ["config keys (--section.key=value, or in the --config YAML; the defaults shown are before the "
              "profile's changes, see empathic_rlhf/profiles/<profile>.yaml):"]
    if sections is None:
        blocks.append("[run]")
        blocks.extend(describe_fields(RunConfig, "", recurse=False))
        sections = tuple(name for name, cls in classes.items() if cls is not None)
    for section in sections:
        section_cls = classes[section]
        blocks.append(f"[{section}] {_summary_line(section_cls)}".rstrip())
        blocks.extend(describe_fields(section_cls, f"{section}."))
    return "\n".join(blocks)


def _summary_line(cls) -> str:
    """The first line of a config class's docstring ('' when it has none: dataclasses invent a signature)."""
    doc = (cls.__doc__ or "").strip()
    return "" if not doc or doc.startswith(f"{cls.__name__}(") else doc.splitlines()[0]


def add_stage_command(subparsers, stage, help_text: str, sections: tuple[str, ...] | None = None,
                      description: str | None = None):
    """The command of ``stage`` (an :class:`~empathic_rlhf.stage.Stage`; its name is the last word of
    ``stage.command``): run the stage after the stages it needs, when those are out of date, and print its summary.
    ``--help`` lists the config keys of ``sections`` (default: the stage's own section, then the shared model and
    data sections). Returns the parser."""
    shown = sections if sections is not None else (stage.name, *SHARED_SECTIONS)
    parser = subparsers.add_parser(stage.command[-1], help=help_text,
                                   description=textwrap.fill(description or help_text, 80),
                                   epilog=config_help(shown), formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_options(parser)
    parser.set_defaults(stage=stage.name, func=None)  # the CLI runs it through pipeline.commands.run_one_stage
    return parser
