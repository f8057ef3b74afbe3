"""The command-line pieces every run-directory command shares: the run options, the config resolved from them, and
``--help`` text generated from the config dataclasses (each field's ``metadata["help"]`` and default).

It sits below both the stage packages and ``pipeline``: a stage's ``commands.py`` declares its command here
(:func:`add_stage_command`), and the top-level CLI hands such a command to the pipeline's runner
(``args.stage`` names the stage). So ``pipeline`` imports the stages, never the other way round.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import textwrap

HELP_WIDTH = 100
# Sections every stage command shows in its --help besides its own: they decide where and from what it runs.
SHARED_SECTIONS = ("model", "data")


def add_run_options(parser, *, force_help: str = "Rerun this stage even when it is up to date (the stages it "
                                                  "needs still run only when out of date).") -> None:
    """Options every run-directory command shares."""
    parser.add_argument("--config", help="YAML config file: top-level keys are the sections shown below "
                                         "(data, model, prepare, sft, ...).")
    from .run_config import DEFAULT_PROFILE, PROFILES

    parser.add_argument("--profile", choices=PROFILES, help=f"Preset (default: {DEFAULT_PROFILE}): demo (CPU smoke "
                                                            "demo), results (~2 h on a laptop CPU, real numbers) or "
                                                            "full (GPU). The defaults below are demo's.")
    parser.add_argument("--name", help="Run name: outputs go to <runs-dir>/<name>/ (default: demo).")
    parser.add_argument("--runs-dir", help="Folder of run directories (default: runs).")
    parser.add_argument("--data-dir", help="EmpatheticDialogues folder or archive (else $EMPATHIC_DATA_DIR, "
                                           "else download the official release).")
    parser.add_argument("--base-model", help="Embedded name, local folder or Hub id (default: smollm2-135m).")
    parser.add_argument("--force", action="store_true", help=force_help)


def run_config_from(args, overrides):
    """The resolved RunConfig of a command's flags and ``--dotted.key=value`` overrides.

    A run remembers its data source: when neither --data-dir, the --config file nor an override names one, the
    ``data.data_dir`` of the run's own config.yaml is used (so a later command on the run reads the data it was
    made from, rather than $EMPATHIC_DATA_DIR or a download, which would make every stage out of date)."""
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
    config = load_run_config(profile=args.profile, config_file=args.config, options=options, overrides=overrides)
    recorded = None if config.data.data_dir is not None else recorded_data_dir(config.run_path)
    if recorded is None:
        return config
    _note_env_not_used(recorded, config.run_path)
    options["data"] = {"data_dir": recorded}
    return load_run_config(profile=args.profile, config_file=args.config, options=options, overrides=overrides)


def recorded_data_dir(run_path) -> str | None:
    """``data.data_dir`` of the run's config.yaml (where its data came from), or None (no run yet, or none named)."""
    from pathlib import Path

    import yaml

    path = Path(run_path) / "config.yaml"
    if not path.is_file():
        return None
    try:
        saved = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError):
        return None  # not ours to judge here: the run's stages decide from the manifest
    data = saved.get("data") if isinstance(saved, dict) else None
    value = data.get("data_dir") if isinstance(data, dict) else None
    return str(value) if value else None


def _note_env_not_used(recorded: str, run_path) -> None:
    import os
    import sys

    from .paths import DATA_DIR_ENV

    env = os.environ.get(DATA_DIR_ENV)
    if env and env != recorded:
        print(f"data: {recorded}, where the run {run_path} was made from (its config.yaml), not ${DATA_DIR_ENV}="
              f"{env}; --data-dir reads another source", file=sys.stderr)


def _default_value(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def value_text(value) -> str:
    """A value as --help shows it: text quoted, lists and mappings without quotes."""
    if value is dataclasses.MISSING:
        return "required"
    return repr(value) if isinstance(value, str) else str(value).replace("'", "")


def _lookup(layer: dict, dotted: str):
    """The value at ``dotted`` (``rl.max_steps``) of a nested dict, or MISSING."""
    node = layer
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return dataclasses.MISSING
        node = node[part]
    return node


@functools.lru_cache(maxsize=1)
def profile_layers() -> dict[str, dict]:
    """What each profile sets (``profiles/<profile>.yaml``), the default profile first (read once: every command's
    --help text is built with the parser)."""
    from .run_config import DEFAULT_PROFILE, PROFILES, profile_layer

    order = (DEFAULT_PROFILE, *(p for p in PROFILES if p != DEFAULT_PROFILE))
    return {name: {k: v for k, v in profile_layer(name).items() if k != "profile"} for name in order}


def _default_text(f: dataclasses.Field, dotted: str, profiles: dict[str, dict] | None) -> str:
    """``default: X`` -- with ``profiles``, X is the value the default profile gives (the value a command uses
    without --profile), followed by the other profiles' values where they differ."""
    base = _default_value(f)
    if not profiles:
        return f"default: {value_text(base)}"
    values = {name: _lookup(layer, dotted) for name, layer in profiles.items()}
    values = {name: base if value is dataclasses.MISSING else value for name, value in values.items()}
    default_profile, shown = next(iter(values.items()))
    others = [f"{name}: {value_text(value)}" for name, value in values.items()
              if name != default_profile and value_text(value) != value_text(shown)]
    return f"default: {value_text(shown)}" + (f"; with --profile {', '.join(others)}" if others else "")


def _section_class(f: dataclasses.Field):
    """The dataclass a field holds as a nested section, or None for a plain value."""
    factory = f.default_factory
    return factory if isinstance(factory, type) and dataclasses.is_dataclass(factory) else None


def describe_fields(cls, prefix: str, *, recurse: bool = True, profiles: dict[str, dict] | None = None,
                    only: tuple[str, ...] | None = None) -> list[str]:
    """Help lines of every field of dataclass ``cls`` (or of those named in ``only``): ``--prefix.key=TYPE
    (default: ...)`` then its help text; nested dataclasses are described in turn (``recurse``) or left out. With
    ``profiles`` (:func:`profile_layers`), a default is the default profile's value, then the others' that differ."""
    lines: list[str] = []
    for f in dataclasses.fields(cls):
        if only is not None and f.name not in only:
            continue
        dotted = f"{prefix}{f.name}"
        nested = _section_class(f)
        if nested is not None:
            lines.extend(describe_fields(nested, f"{dotted}.", profiles=profiles) if recurse else [])
            continue
        type_name = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        lines.append(f"  --{dotted}={type_name}  ({_default_text(f, dotted, profiles)})")
        help_text = f.metadata.get("help", "")
        lines.extend(textwrap.wrap(help_text, HELP_WIDTH, initial_indent=" " * 6, subsequent_indent=" " * 6))
    return lines


# Top-level keys of the run config that have no option of their own (name, runs_dir, profile have): every stage
# command lists them with its sections.
RUN_KEYS = ("seed", "keep_checkpoints")


def config_help(sections: tuple[str, ...] | None) -> str:
    """The config keys of ``sections`` of the run config (all of them, top-level keys first, for ``None``), each with
    the value the command uses without --profile (the default profile's) and where the other profiles differ."""
    from .run_config import DEFAULT_PROFILE, RunConfig

    if sections == ():
        return "config keys: none (it reads only what the run directory holds; the options above say which run)."
    classes = {f.name: _section_class(f) for f in dataclasses.fields(RunConfig)}
    profiles = profile_layers()
    blocks = [textwrap.fill(f"config keys (--section.key=value, or in the --config YAML). A default is the value the "
                            f"command uses without --profile, i.e. with the default profile, {DEFAULT_PROFILE}; where "
                            "another profile sets a different value, that follows (empathic_rlhf/profiles/"
                            "<profile>.yaml):", HELP_WIDTH)]
    blocks.append("[run]")
    blocks.extend(describe_fields(RunConfig, "", recurse=False, profiles=profiles,
                                  only=None if sections is None else RUN_KEYS))
    if sections is None:
        sections = tuple(name for name, cls in classes.items() if cls is not None)
    for section in sections:
        section_cls = classes[section]
        blocks.append(f"[{section}] {_summary_line(section_cls)}".rstrip())
        blocks.extend(describe_fields(section_cls, f"{section}.", profiles=profiles))
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
    # the CLI runs it through pipeline.commands.run_one_stage; an override of a section it reads neither itself (as
    # --help lists) nor through a stage it runs first is an error there
    parser.set_defaults(stage=stage.name, func=None, config_sections=shown)
    return parser
