"""Run stages in order, skipping those whose config and inputs did not change since they last finished."""

from __future__ import annotations

import sys

from .. import config as cfg
from ..rundir import RunDir, Timer
from .config import RunConfig
from .stages import STAGES, Stage, stage_named


def stage_hash(config: RunConfig, stage: Stage) -> str:
    """Hash of the seed and the config sections the stage depends on."""
    sections = {name: cfg.to_dict(getattr(config, name)) for name in stage.sections}
    return cfg.config_hash({"seed": config.seed, **sections})


def run_stage(config: RunConfig, stage: Stage, *, force: bool = False) -> dict:
    """Run one stage (unless up to date and not forced) and record it in the manifest."""
    run = RunDir(config.run_path)
    run.save_config(cfg.to_dict(config))
    inputs = stage.inputs(config, run)
    digest = stage_hash(config, stage)
    if not force and run.is_up_to_date(stage.name, digest, inputs):
        print(f"[{stage.name}] up to date, skipped (--force to rerun)", file=sys.stderr)
        return run.manifest()["stages"][stage.name]
    print(f"[{stage.name}] running", file=sys.stderr)
    with Timer() as timer:
        result = stage.run(config, run)
    run.record(stage.name, digest, inputs, result["outputs"], timer.seconds, result.get("summary"))
    print(f"[{stage.name}] done in {timer.seconds:.1f} s", file=sys.stderr)
    return run.manifest()["stages"][stage.name]


def run_pipeline(config: RunConfig, *, force: bool = False, until: str | None = None) -> dict:
    """Run every stage in order (up to ``until``); returns the manifest's stage entries."""
    entries = {}
    for stage in STAGES:
        if not stage.enabled(config):
            continue
        entries[stage.name] = run_stage(config, stage, force=force)
        if stage.name == until:
            break
    return entries


def run_with_needs(config: RunConfig, name: str, *, force: bool = False, done: set | None = None) -> dict:
    """Run stage ``name`` after the stages it needs (each only if out of date); ``force`` reruns ``name`` only."""
    done = done if done is not None else set()
    stage = stage_named(name)
    for needed in stage.needs(config) if callable(stage.needs) else stage.needs:
        if needed not in done:
            run_with_needs(config, needed, done=done)
    done.add(name)
    return run_stage(config, stage, force=force)
