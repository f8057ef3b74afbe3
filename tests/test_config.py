from dataclasses import dataclass, field

import pytest

from empathic_rlhf import config as cfg
from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.run_config import load_run_config


@dataclass
class Inner:
    size: int = field(default=3, metadata={"help": "A size."})
    names: list[str] = field(default_factory=list, metadata={"help": "Some names."})
    rate: float = 0.5
    path: str | None = None


@dataclass
class Outer:
    name: str = "x"
    inner: Inner = field(default_factory=Inner)


def test_overrides_nest_and_parse_values_as_yaml():
    assert cfg.parse_overrides(["--inner.size=7", "--name=run1", "--inner.names=[a, b]"]) == {
        "inner": {"size": 7, "names": ["a", "b"]}, "name": "run1"}


def test_layers_merge_in_order_and_types_are_coerced():
    outer = cfg.load(Outer, layers=[{"inner": {"size": 1, "rate": 1}}, {"inner": {"size": 2}},
                                    cfg.parse_overrides(["--inner.names=a,b"])])
    assert outer.inner.size == 2 and outer.inner.rate == 1.0 and isinstance(outer.inner.rate, float)
    assert outer.inner.names == ["a", "b"] and outer.inner.path is None


def test_unknown_key_names_the_dotted_key():
    with pytest.raises(EmpathicError, match=r"unknown config key 'inner\.sise'"):
        cfg.load(Outer, layers=[{"inner": {"sise": 2}}])


def test_wrong_type_names_the_key():
    with pytest.raises(EmpathicError, match=r"'inner\.size' must be int, got 'big'"):
        cfg.load(Outer, layers=[cfg.parse_overrides(["--inner.size=big"])])
    with pytest.raises(EmpathicError, match=r"'inner\.size' must be int, got True"):
        cfg.load(Outer, layers=[{"inner": {"size": True}}])


def test_override_must_look_like_a_dotted_assignment():
    with pytest.raises(EmpathicError, match="--section.key=value"):
        cfg.parse_overrides(["--oops"])


def test_help_text_is_declared_on_the_field():
    assert cfg.help_of(Inner, "size") == "A size."


def test_run_config_profiles_file_and_overrides(tmp_path):
    config_file = tmp_path / "c.yaml"
    config_file.write_text("prepare:\n  max_history_turns: 2\n")  # the demo profile says 3
    config = load_run_config(profile="demo", config_file=str(config_file),
                             overrides=["--prepare.max_length=128", "--name=abc"])
    assert config.prepare.max_history_turns == 2 and config.prepare.max_length == 128
    assert config.prepare.max_conversations == {"train": 2000, "valid": 400, "test": 200}  # from the demo profile
    assert config.model.base_model == "smollm2-135m" and config.run_path.name == "abc"
    assert load_run_config(profile="full").model.base_model == "gpt2"


def test_validation_errors_are_user_errors():
    with pytest.raises(EmpathicError, match="max_history_turns must be 1-5"):
        load_run_config(overrides=["--prepare.max_history_turns=9"])
    with pytest.raises(EmpathicError, match="unknown profile"):
        load_run_config(profile="huge")


def test_exponent_floats_from_the_command_line():
    outer = cfg.load(Outer, layers=[cfg.parse_overrides(["--inner.rate=1e-2"])])
    assert outer.inner.rate == 0.01


def test_checkpoints_of_another_job_are_discarded(tmp_path):
    from empathic_rlhf.rundir import checkpoints_for

    folder = checkpoints_for(tmp_path / "ckpt", {"lr": 1})
    (folder / "checkpoint-4").mkdir()
    assert (checkpoints_for(tmp_path / "ckpt", {"lr": 1}) / "checkpoint-4").is_dir()  # same job: resume
    assert not (checkpoints_for(tmp_path / "ckpt", {"lr": 2}) / "checkpoint-4").exists()  # changed: start over


def test_run_config_holds_the_label_and_static_reward_sections(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("label:\n  overlap: 2\nstatic_reward:\n  question_weight: 0.4\n", encoding="utf-8")
    config = load_run_config(config_file=str(path), overrides=["--label.port=9000"])
    assert (config.label.overlap, config.label.port, config.static_reward.question_weight) == (2, 9000, 0.4)


def test_load_section_layers_one_section_and_rejects_the_others(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("label:\n  overlap: 2\n  port: 1\nrl:\n  beta: 9\n", encoding="utf-8")
    from empathic_rlhf.label.config import LabelConfig

    config = cfg.load_section(LabelConfig, "label", config_file=str(path), overrides=["--label.port=5"],
                              options={"port": 3, "host": "0.0.0.0"})
    assert (config.overlap, config.port, config.host) == (2, 5, "0.0.0.0")
    with pytest.raises(EmpathicError, match=r"reads only the 'label' config section; --rl\.\.\."):
        cfg.load_section(LabelConfig, "label", overrides=["--rl.beta=1"])


def test_a_setting_that_needs_an_extra_names_it(monkeypatch):
    from empathic_rlhf import extras

    monkeypatch.setitem(extras.EXTRAS, "ct2", "empathic_no_such_module")  # as if ctranslate2 were not installed
    with pytest.raises(EmpathicError, match=r"sample\.backend=ctranslate2 needs the optional package "
                                            r"empathic_no_such_module: pip install 'empathic-rlhf\[ct2\]'"):
        load_run_config(overrides=["--sample.backend=ctranslate2"])
    assert load_run_config(overrides=["--sample.backend=torch"]).sample.backend == "torch"


def test_pyproject_declares_every_third_party_import():
    """Each top-level module imported by the package comes from a distribution named in pyproject (dependencies
    or an extra), so `pip install -e .` (+ the extra a setting names) is enough."""
    import ast
    import re
    import sys
    import tomllib
    from importlib.metadata import packages_distributions
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *(d for extra in project["optional-dependencies"].values() for d in extra)]
    names = {re.split(r"[\[=<>~! ]", d, maxsplit=1)[0].lower().replace("_", "-") for d in declared}
    imported = set()
    for path in (root / "empathic_rlhf").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"empathic_rlhf"}
    providers = packages_distributions()
    undeclared = {m: providers.get(m) for m in third_party  # a module named as its extra's distribution counts
                  if m not in names and not {d.lower().replace("_", "-") for d in providers.get(m, [])} & names}
    assert undeclared == {}
