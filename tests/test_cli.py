"""The command line: --help generated from the config dataclasses, stage names checked, overrides never ignored,
--force saying what it reruns, per-stage config in the manifest, and the module layering (pipeline on top)."""

import argparse
import ast
import dataclasses
import json
from pathlib import Path

import pytest

from empathic_rlhf.cli import build_parser, main
from empathic_rlhf.rl.config import RlConfig
from empathic_rlhf.run_config import RunConfig

PACKAGE = Path(__file__).resolve().parents[1] / "empathic_rlhf"


def help_of(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_rl_help_lists_every_rl_key_with_its_help_and_default(capsys):
    """The default shown is the value the command uses: the default profile's (demo), not the dataclass's."""
    from empathic_rlhf.run_config import load_run_config

    text = help_of(capsys, "rl")
    flat = " ".join(text.split())  # help text is wrapped: compare with whitespace collapsed
    used = load_run_config().rl
    for f in dataclasses.fields(RlConfig):
        default = getattr(used, f.name)
        shown = repr(default) if isinstance(default, str) else str(default).replace("'", "")
        assert f"--rl.{f.name}=" in text and f"(default: {shown}" in flat.split(f"--rl.{f.name}=", 1)[1][:200]
        assert " ".join(f.metadata["help"].split()) in flat, f.name


@pytest.mark.parametrize("argv, sections", [
    (["sft"], ["sft", "model", "data"]), (["prepare"], ["prepare", "data", "model"]),
    (["sample"], ["sample"]), (["evaluate"], ["evaluate"]), (["dpo"], ["dpo"]),
    (["reward", "train"], ["reward", "model", "prepare"]), (["dyme", "train"], ["dyme", "data"]),
])
def test_every_stage_command_documents_its_sections(capsys, argv, sections):
    text = help_of(capsys, *argv)
    for section in sections:
        cls = type(getattr(RunConfig(), section))
        for f in dataclasses.fields(cls):
            assert f"--{section}.{f.name}=" in text


def test_run_help_lists_all_sections_and_the_top_level_keys(capsys):
    text = help_of(capsys, "run")
    for f in dataclasses.fields(RunConfig):
        value = getattr(RunConfig(), f.name)
        if dataclasses.is_dataclass(value):
            assert f"\n[{f.name}]" in text and all(f"--{f.name}.{g.name}=" in text for g in dataclasses.fields(value))
        else:
            assert f"--{f.name}=" in text
    assert "--label.overlap=" in text and "--static_reward.question_weight=" in text


def test_every_option_of_every_command_has_help():
    missing = []

    def walk(parser, path):
        for action in parser._actions:  # argparse keeps no public list of a parser's options
            is_group = isinstance(action, argparse._SubParsersAction)  # the <command> slot itself, not an option
            if action.help is None and action.dest != "help" and not is_group:
                missing.append(f"{path} {action.option_strings or action.dest}")
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")

    walk(build_parser(), "empathic")
    assert missing == []


def test_run_until_rejects_an_unknown_stage(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--runs-dir", str(tmp_path), "--until", "sfft"])
    assert exit_.value.code == 2
    assert "argument --until: invalid choice: 'sfft'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("argv", [
    ["data", "stats", "--prepare.max_history_turns=2"],
    ["reward", "score", "--model", "x", "--rl.beta=1"],
    ["model", "fetch", "tiny-gpt2", "--sft.max_steps=1"],
])
def test_commands_that_take_no_overrides_reject_them(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "takes no config overrides" in err and len(err.splitlines()) == 1


def test_a_section_command_rejects_other_sections(capsys):
    assert main(["dyme", "score", "--model", "x", "--rl.beta=1"]) == 2
    assert "reads only the 'dyme' config section" in capsys.readouterr().err


def test_force_says_what_it_reruns_and_the_manifest_keeps_each_stage_config(tmp_path, small_data_dir,
                                                                             tiny_gpt2_dir, capsys):
    args = ["prepare", "--runs-dir", str(tmp_path), "--name", "t", "--data-dir", str(small_data_dir),
            "--base-model", str(tiny_gpt2_dir), "--prepare.max_history_turns=2"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args + ["--force"]) == 0
    err = capsys.readouterr().err
    assert "--force: rerunning prepare" in err and "[prepare] up to date, rerun because of --force" in err
    entry = json.loads((tmp_path / "t" / "manifest.json").read_text())["stages"]["prepare"]
    assert entry["config"]["prepare"]["max_history_turns"] == 2 and entry["config"]["seed"] == 0
    assert set(entry["config"]) == {"seed", "data", "model", "prepare"}


def test_a_failed_stage_leaves_config_yaml_and_manifest_as_they_were(tmp_path, small_data_dir, tiny_gpt2_dir):
    base = ["prepare", "--runs-dir", str(tmp_path), "--name", "t", "--data-dir", str(small_data_dir),
            "--base-model", str(tiny_gpt2_dir)]
    assert main(base) == 0
    config_before = (tmp_path / "t" / "config.yaml").read_text()
    manifest_before = (tmp_path / "t" / "manifest.json").read_text()
    # every reply is longer than 16 tokens: the stage fails, so nothing about the run may change
    assert main(base + ["--prepare.max_length=16", "--prepare.roles=[speaker]"]) == 2
    assert (tmp_path / "t" / "config.yaml").read_text() == config_before
    assert (tmp_path / "t" / "manifest.json").read_text() == manifest_before


def test_chat_takes_model_as_an_option(tiny_gpt2_dir, monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("hello there\n/quit\n"))
    assert main(["chat", "--model", str(tiny_gpt2_dir), "--max_new_tokens=3"]) == 0
    assert sum(line.startswith("bot: ") for line in capsys.readouterr().out.splitlines()) == 1


def test_waiting_for_labels_names_the_run():
    from empathic_rlhf.reward.stage import waiting_message
    from empathic_rlhf.rundir import RunDir

    message = waiting_message(RunDir(Path("/tmp/somewhere/runs/exp1")))
    for command in ("import", "invite", "serve", "export"):
        assert f"empathic label {command} --name exp1 --runs-dir /tmp/somewhere/runs" in message


def _imports_the_pipeline(path: Path) -> bool:
    """Whether a module of the package imports ``empathic_rlhf.pipeline`` (absolutely or relatively)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            package = path.relative_to(PACKAGE.parent).parts[:-1]  # e.g. ("empathic_rlhf", "sft")
            base = package[: len(package) - (node.level - 1)]
            if ".".join([*base, node.module or ""]).startswith("empathic_rlhf.pipeline"):
                return True
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("empathic_rlhf.pipeline"):
            return True
        elif isinstance(node, ast.Import) and any(a.name.startswith("empathic_rlhf.pipeline") for a in node.names):
            return True
    return False


def test_stage_packages_never_import_the_pipeline():
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if "pipeline" not in p.relative_to(PACKAGE).parts and p.name != "cli.py" and _imports_the_pipeline(p)]
    assert offenders == []
