"""A config field added after a stage ran does not make the stage out of date while it keeps its default."""

from __future__ import annotations

import pytest

from empathic_rlhf import config as cfg
from empathic_rlhf.pipeline.stages import stage_named
from empathic_rlhf.run_config import RunConfig
from empathic_rlhf.rundir import RunDir
from empathic_rlhf.stage import Context


def _run_recorded_without_rl_seed(tmp_path) -> tuple[RunDir, dict]:
    """A run whose rl stage was recorded by a version of the toolkit without the field ``rl.seed``, and the config
    layer it ran with."""
    stage = stage_named("rl")
    base = {"runs_dir": str(tmp_path), "name": "r", "rl": {"max_steps": 7}}
    config = cfg.load(RunConfig, layers=[base])
    run = RunDir(config.run_path)
    old = Context(config, run).stage_config(stage)
    del old["rl"]["seed"]
    (run.path / "rl").mkdir(parents=True)
    run.record(stage.name, cfg.config_hash(old), {}, ["rl"], 1.0, config=old)
    return run, base


@pytest.mark.parametrize("change, up_to_date", [
    ({}, True),                      # the new field at its default: nothing changed
    ({"rl": {"seed": 3}}, False),    # the new field set: the stage reruns
    ({"rl": {"max_steps": 8}}, False),  # an old field changed: the stage reruns
])
def test_a_field_added_later_counts_as_unchanged_only_at_its_default(tmp_path, change, up_to_date):
    run, base = _run_recorded_without_rl_seed(tmp_path)
    config = cfg.load(RunConfig, layers=[base, change])
    assert Context(config, run).is_current(stage_named("rl"), {}) is up_to_date


def test_without_new_defaults_keeps_keys_the_record_has():
    defaults = {"a": 1, "s": {"x": 0, "y": 0}}
    recorded = {"a": 1, "s": {"x": 0}}
    assert cfg.without_new_defaults({"a": 1, "s": {"x": 0, "y": 0}}, defaults, recorded) == {"a": 1, "s": {"x": 0}}
    assert cfg.without_new_defaults({"a": 1, "s": {"x": 0, "y": 5}}, defaults, recorded) == {
        "a": 1, "s": {"x": 0, "y": 5}}


def test_a_round_stage_recorded_before_a_new_field_is_skipped(tmp_path):
    from empathic_rlhf.pipeline.rounds import Round
    from empathic_rlhf.pipeline.runner import run_stage
    from empathic_rlhf.stage import InRounds, Stage

    ran = []
    stage = Stage("reward", ("reward",), lambda context: {}, lambda context: ran.append(1) or {"outputs": []},
                  rounds=InRounds())
    base = {"runs_dir": str(tmp_path), "name": "r", "rounds": {"count": 2}, "reward": {"epochs": 2}}
    later = Round(cfg.load(RunConfig, layers=[base]), 2, ("reward",)).context()
    old = later.stage_config(stage)
    del old["reward"]["init_model"]  # a field the toolkit added later, at its default
    later.run.path.mkdir(parents=True)
    later.run.record("reward", cfg.config_hash(old), {}, [], 1.0, config=old)
    run_stage(later, stage)
    assert ran == []
    run_stage(Round(cfg.load(RunConfig, layers=[base, {"reward": {"epochs": 3}}]), 2, ("reward",)).context(), stage)
    assert ran == [1]


def test_rl_seed_reruns_rl_alone():
    from empathic_rlhf.rl.stage import rl_seed

    run_seed = cfg.load(RunConfig, layers=[{"seed": 4}])
    rl_only = cfg.load(RunConfig, layers=[{"seed": 4, "rl": {"seed": 9}}])
    assert (rl_seed(run_seed), rl_seed(rl_only)) == (4, 9)
    changed = [s for s in ("prepare", "sft", "sample", "reward", "rl", "dpo", "evaluate")
               if Context(run_seed).stage_hash(stage_named(s)) != Context(rl_only).stage_hash(stage_named(s))]
    assert changed == ["rl"]
