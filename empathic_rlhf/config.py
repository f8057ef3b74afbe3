"""Configs: one dataclass per stage, merged as defaults < profile < YAML file < ``--dotted.key=value``.

Each field documents itself where it is declared, TRL-style::

    max_history_turns: int = field(default=5, metadata={"help": "Previous turns kept as context (1-5)."})

Loading checks every key and type against the dataclasses: an unknown key or a value of the wrong type is an
:class:`~empathic_rlhf.errors.EmpathicError` that names the dotted key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

import yaml

from .errors import EmpathicError

T = TypeVar("T")


def help_of(cls, name: str) -> str:
    """The documented help text of field ``name`` of dataclass ``cls``."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.metadata.get("help", "")
    raise KeyError(name)


def trainer_args_field(section: str, trl_class: str):
    """The ``trainer_args`` field of a training section: extra arguments passed as they are to the stage's TRL config
    (:func:`empathic_rlhf.runtime.trl_arguments` builds it), so a knob the section has no field for is one line of
    YAML (``sft: {trainer_args: {gradient_checkpointing: true}}``) or one flag (``--sft.trainer_args.optim=adamw_torch``)."""
    return dataclasses.field(default_factory=dict, metadata={
        "help": f"Extra arguments of TRL's {trl_class} (transformers TrainingArguments), passed as they are, e.g. "
                f"'{{gradient_checkpointing: true, gradient_accumulation_steps: 4}}' or "
                f"--{section}.trainer_args.optim=adamw_torch_fused. An unknown name, or one the stage sets from its "
                "own fields, is an error naming it; the device defaults (bf16, use_cpu, dataloader_num_workers) "
                "may be overridden."})


def to_dict(config) -> dict:
    """A plain (YAML/JSON-ready) dict of a config dataclass."""
    return dataclasses.asdict(config)


def config_hash(config) -> str:
    """A short stable hash of a config (dataclass or dict), used to decide whether a stage must be rerun."""
    plain = config if isinstance(config, dict) else to_dict(config)
    blob = json.dumps(plain, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def without_new_defaults(current: dict, defaults: dict, recorded: dict) -> dict:
    """``current`` less the keys that ``recorded`` (a config written by an older version) lacks and whose value is
    still their default: a field added to the toolkit later, at a default that keeps the old behaviour, must not
    make finished stages out of date (the results profile's stages take hours). Nested sections are compared key by
    key; a key set to anything but its default is kept, so the hash differs and the stage reruns."""
    kept = {}
    for key, value in current.items():
        if key not in recorded:
            if key in defaults and value == defaults[key]:
                continue
            kept[key] = value
        elif isinstance(value, dict) and isinstance(recorded[key], dict):
            kept[key] = without_new_defaults(value, defaults.get(key) or {}, recorded[key])
        else:
            kept[key] = value
    return kept


def hash_as_recorded(current: dict, defaults: dict, recorded: dict | None) -> str:
    """The hash ``current`` has in the terms of a manifest entry's ``recorded`` config (see
    :func:`without_new_defaults`); with nothing recorded, its plain hash."""
    return config_hash(without_new_defaults(current, defaults, recorded) if recorded else current)


def parse_overrides(args: list[str]) -> dict:
    """Turn ``["--a.b=1", "--c=x"]`` into a nested dict ``{"a": {"b": 1}, "c": "x"}`` (values parsed as YAML)."""
    nested: dict = {}
    for arg in args:
        if not arg.startswith("--") or "=" not in arg:
            raise EmpathicError(f"unrecognised argument {arg!r}: config overrides look like --section.key=value")
        key, raw = arg[2:].split("=", 1)
        value = yaml.safe_load(raw) if raw != "" else ""
        node = nested
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise EmpathicError(f"config key {key!r}: {part!r} is a value, not a section")
        node[leaf] = value
    return nested


def deep_merge(base: dict, update: dict) -> dict:
    """Merge ``update`` into a copy of ``base``, recursing into nested dicts."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_yaml(path: str | Path) -> dict:
    """Read a YAML mapping; a missing file or a non-mapping is an error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise EmpathicError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as e:
        line = path.read_bytes()[:e.start].count(b"\n") + 1
        raise EmpathicError(f"{path}:{line}: not UTF-8 text (byte 0x{e.object[e.start]:02x})") from None
    except yaml.YAMLError as e:
        raise EmpathicError(_yaml_error_line(path, e)) from None
    if not isinstance(data, dict):
        raise EmpathicError(f"{path}: expected a mapping of config sections at the top level")
    return data


def _yaml_error_line(path: Path, error: yaml.YAMLError) -> str:
    """One line for a YAML parser error: ``file:line:column: problem`` (the parser's own text spans six lines)."""
    mark = getattr(error, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else f"{path}"
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return f"{where}: not valid YAML ({problem})"


def build(cls: type[T], values: dict, prefix: str = "") -> T:
    """Build dataclass ``cls`` from a nested dict, checking keys and types; missing keys keep their defaults."""
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if key not in known:
            choices = ", ".join(sorted(known))
            raise EmpathicError(f"unknown config key {dotted!r} (known here: {choices})")
        kwargs[key] = _coerce(hints[key], value, dotted)
    try:
        config = cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise EmpathicError(f"config {prefix.rstrip('.') or cls.__name__}: {e}") from None
    return config


def _coerce(hint, value, dotted: str):
    """Check ``value`` against type ``hint`` (converting where lossless) or raise an error naming ``dotted``."""
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise EmpathicError(f"config key {dotted!r} is a section: give it a mapping, not {value!r}")
        return build(hint, value, prefix=f"{dotted}.")
    origin, args = get_origin(hint), get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(arg, value, dotted)
            except EmpathicError as e:
                errors.append(str(e))
        raise EmpathicError(errors[0])
    if origin is Literal:
        if value not in args:
            raise EmpathicError(f"config key {dotted!r} must be one of {list(args)}, got {value!r}")
        return value
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise EmpathicError(f"config key {dotted!r} must be a list, got {value!r}")
        return [_coerce(args[0], v, f"{dotted}[{i}]") for i, v in enumerate(value)] if args else list(value)
    if origin is dict:
        if not isinstance(value, dict):
            raise EmpathicError(f"config key {dotted!r} must be a mapping, got {value!r}")
        return {str(k): _coerce(args[1], v, f"{dotted}.{k}") for k, v in value.items()} if args else dict(value)
    if hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-2" (no dot) as text
            try:
                return float(value)
            except ValueError:
                pass
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    elif isinstance(value, hint):
        return value
    raise EmpathicError(f"config key {dotted!r} must be {getattr(hint, '__name__', hint)}, got {value!r}")


def load(cls: type[T], *, layers: list[dict]) -> T:
    """Build ``cls`` from dict layers applied in order (later layers win)."""
    merged: dict = {}
    for layer in layers:
        merged = deep_merge(merged, layer)
    return build(cls, merged)


def load_section(cls: type[T], section: str, *, config_file: str | None = None, overrides: list[str] | None = None,
                 options: dict | None = None) -> T:
    """Config ``cls`` of one section, for commands that read only that section of a run config: defaults < the
    ``section:`` of a YAML file < the command's own flags (``options``) < ``--section.key=value`` overrides.

    An override of any other section is an error naming it (never silently ignored).
    """
    file_layer = (read_yaml(config_file).get(section) or {}) if config_file else {}
    parsed = parse_overrides(overrides or [])
    other = sorted(set(parsed) - {section})
    if other:
        raise EmpathicError(f"this command reads only the {section!r} config section; --{other[0]}... is not one "
                            f"of its keys (use --{section}.key=value)")
    return load(cls, layers=[file_layer, options or {}, parsed.get(section, {})])


def reject_overrides(overrides: list[str], command: str) -> None:
    """For commands that take no config overrides: any leftover ``--x=y`` is an error, not silently ignored."""
    if overrides:
        raise EmpathicError(f"{command} takes no config overrides; got {overrides[0]!r}")
