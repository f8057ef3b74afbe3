"""One stage object per stage and one runner: every stage of pipeline/stages.py runs through the runner in
`empathic run`, in rounds and in its single-stage command, and a config field added after a stage finished leaves
it up to date (acquire included: its command had a runner of its own that missed the rule)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from empathic_rlhf import config as cfg
from empathic_rlhf.cli import main
from empathic_rlhf.pipeline import rounds, run as pipeline_run, stages
from empathic_rlhf.pipeline.runner import run_stage
from empathic_rlhf.run_config import RunConfig, load_run_config
from empathic_rlhf.rundir import RunDir
from empathic_rlhf.stage import Context


def fake(stage, calls: list):
    """``stage`` with bodies that only note the call and leave its folder (the runner around them is real)."""
    def run(context):
        (context.run.stage_dir(stage.name) / "model").mkdir(parents=True, exist_ok=True)
        calls.append((context.number, stage.name))
        return {"outputs": [stage.name], "summary": {"fake": True}}
    return replace(stage, inputs=lambda context: {}, run=run, enabled=lambda config: True)


@pytest.fixture
def faked(monkeypatch):
    """Every listed stage faked, the rounds stage (the real driver) running the faked round stages."""
    calls: list = []
    round_stages = tuple(fake(s, calls) for s in stages.ROUND_STAGES)
    walked = tuple(rounds.rounds_stage(round_stages) if s.name == "rounds" else fake(s, calls) for s in stages.STAGES)
    monkeypatch.setattr(pipeline_run, "STAGES", walked)
    monkeypatch.setattr(stages, "ALL_STAGES", (*walked, *(fake(s, calls) for s in stages.COMMAND_STAGES)))
    return calls


def test_every_stage_runs_through_the_one_runner_in_run_and_in_rounds(faked, tmp_path, capsys):
    args = ["run", "--runs-dir", str(tmp_path), "--name", "r", "--rounds", "2"]
    assert main(args) == 0
    driver = [s.name for s in stages.STAGES].index("rounds")
    assert faked == ([(1, s.name) for s in stages.STAGES[:driver]] + [(2, s.name) for s in stages.ROUND_STAGES]
                     + [(1, s.name) for s in stages.STAGES[driver + 1:]])
    config = load_run_config(config_file=str(tmp_path / "r" / "config.yaml"))  # what the run resolved
    run_entries = json.loads((tmp_path / "r" / "manifest.json").read_text())["stages"]
    assert list(run_entries) == list(stages.STAGE_NAMES)
    for stage in stages.STAGES:  # recorded by the runner, with the config it hashes
        assert run_entries[stage.name]["config"] == Context(config).stage_config(stage), stage.name
    later = rounds.Round(config, 2, tuple(s.name for s in stages.ROUND_STAGES)).context()
    round_entries = json.loads((tmp_path / "r" / "rounds" / "2" / "manifest.json").read_text())["stages"]
    assert list(round_entries) == [s.name for s in stages.ROUND_STAGES]
    for stage in stages.ROUND_STAGES:
        assert round_entries[stage.name]["config"] == later.stage_config(stage), stage.name
        assert round_entries[stage.name]["config"]["round"] == 2
    faked.clear()
    capsys.readouterr()
    assert main(args) == 0 and faked == []  # everything up to date, in the run and in round 2
    err = capsys.readouterr().err
    assert err.count("up to date, skipped") == len(stages.STAGES)


@pytest.mark.parametrize("name", [s.name for s in stages.ALL_STAGES if s.command])
def test_every_stage_command_runs_through_the_one_runner(faked, tmp_path, capsys, name):
    stage = stages.stage_named(name)
    argv = [*stage.command, "--runs-dir", str(tmp_path), "--name", "r"]
    assert main(argv) == 0
    assert faked[-1] == (1, name)
    entry = json.loads((tmp_path / "r" / "manifest.json").read_text())["stages"][name]
    config = load_run_config(config_file=str(tmp_path / "r" / "config.yaml"))
    assert entry["config"] == Context(config).stage_config(stage)
    assert main(argv) == 0 and f"[{name}] up to date, skipped" in capsys.readouterr().err


def _contexts(tmp_path):
    """(context, stage) for every listed stage: the run's stages in the run, the round stages in round 2."""
    config = cfg.load(RunConfig, layers=[{"runs_dir": str(tmp_path), "name": "r", "rounds": {"count": 2}}])
    later = rounds.Round(config, 2, tuple(s.name for s in stages.ROUND_STAGES)).context()
    return ([(Context(config), s) for s in (*stages.STAGES, *stages.COMMAND_STAGES)]
            + [(later, s) for s in stages.ROUND_STAGES])


def _without_a_field(recorded: dict) -> dict:
    """``recorded`` as an older toolkit wrote it: the last field of its first section missing."""
    for value in recorded.values():
        if isinstance(value, dict) and value:
            del value[list(value)[-1]]
            break
    return recorded


def test_a_field_added_later_leaves_every_finished_stage_current(tmp_path):
    for context, stage in _contexts(tmp_path):
        old = _without_a_field(context.stage_config(stage))
        context.run.path.mkdir(parents=True, exist_ok=True)
        context.run.record(stage.name, cfg.config_hash(old), {}, [], 1.0, config=old)

        def must_not_run(context, name=stage.name):
            raise AssertionError(f"{name} reran")
        run_stage(context, replace(stage, inputs=lambda context: {}, run=must_not_run))
        changed = replace(context, config=cfg.load(RunConfig, layers=[cfg.to_dict(context.config),
                                                                     {"seed": 1}]))
        assert not changed.is_current(stage, {}), stage.name  # a changed field still reruns it


def test_acquire_recorded_before_a_new_field_is_skipped(tmp_path, capsys):
    """`empathic acquire` used RunDir.is_up_to_date, so a field added to the toolkit reran it (and here, with no
    pool, failed)."""
    config = load_run_config(options={"runs_dir": str(tmp_path), "name": "r"})  # as the command resolves it
    run = RunDir(config.run_path)
    old = {"seed": 0, "sample": cfg.to_dict(config.sample), "acquire": cfg.to_dict(config.acquire)}
    del old["acquire"]["min_distance"]  # a field the toolkit added later, at its default
    run.path.mkdir(parents=True)
    run.record("acquire", cfg.config_hash(old), {"sample/tasks": str(run.path / "sample" / "tasks.jsonl")}, [], 1.0,
               config=old)
    assert main(["acquire", "--runs-dir", str(tmp_path), "--name", "r"]) == 0
    assert "[acquire] up to date, skipped" in capsys.readouterr().err
