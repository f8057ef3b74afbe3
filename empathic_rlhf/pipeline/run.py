"""Run stages in order, skipping those whose config and inputs did not change since they last finished."""

from __future__ import annotations

import sys

from .. import config as cfg
from ..run_config import RunConfig
from ..rundir import RunDir, Timer
from .stages import STAGES, Stage, stage_named


def stage_config(config: RunConfig, stage: Stage) -> dict:
    """The part of the config a stage depends on: the seed and its sections (recorded in its manifest entry)."""
    return {"seed": config.seed, **{name: cfg.to_dict(getattr(config, name)) for name in stage.sections}}


def stage_hash(config: RunConfig, stage: Stage) -> str:
    """Hash of the seed and the config sections the stage depends on."""
    return cfg.config_hash(stage_config(config, stage))


def run_stage(config: RunConfig, stage: Stage, *, force: bool = False) -> dict:
    """Run one stage (unless up to date and not forced) and record it in the manifest.

    Only a stage that finished writes anything beside its own folder: its manifest entry (with its config) and
    the run's ``config.yaml``; a failed stage leaves both as they were.
    """
    run = RunDir(config.run_path)
    inputs = stage.inputs(config, run)
    digest = stage_hash(config, stage)
    up_to_date = run.is_up_to_date(stage.name, digest, inputs)
    if up_to_date and not force:
        print(f"[{stage.name}] up to date, skipped (--force to rerun)", file=sys.stderr)
        return run.manifest()["stages"][stage.name]
    reason = "up to date, rerun because of --force" if up_to_date else "running"
    print(f"[{stage.name}] {reason}", file=sys.stderr)
    with Timer() as timer:
        result = stage.run(config, run)
    run.record(stage.name, digest, inputs, result["outputs"], timer.seconds, result.get("summary"),
               config=stage_config(config, stage))
    run.save_config(cfg.to_dict(config))
    print(f"[{stage.name}] done in {timer.seconds:.1f} s", file=sys.stderr)
    return run.manifest()["stages"][stage.name]


def run_pipeline(config: RunConfig, *, force: bool = False, until: str | None = None) -> dict:
    """Run every enabled stage in order (up to ``until``, a stage name); returns the manifest's stage entries."""
    if until is not None:
        stage_named(until)  # an unknown name fails here, before anything runs
    entries = {}
    for stage in STAGES:
        if not stage.enabled(config):
            continue
        entries[stage.name] = run_stage(config, stage, force=force)
        if stage.name == until:
            break
    return entries


def needed_stages(config: RunConfig, name: str) -> list[str]:
    """The stages ``name`` needs, transitively, in the order they run (``name`` itself last)."""
    order: list[str] = []

    def visit(current: str) -> None:
        stage = stage_named(current)
        for needed in stage.needs(config) if callable(stage.needs) else stage.needs:
            if needed not in order:
                visit(needed)
        if current not in order:
            order.append(current)

    visit(name)
    return order


def run_with_needs(config: RunConfig, name: str, *, force: bool = False) -> dict:
    """Run stage ``name`` after the stages it needs (each only if out of date); ``force`` reruns ``name`` only."""
    order = needed_stages(config, name)
    for needed in order[:-1]:
        run_stage(config, stage_named(needed))
    return run_stage(config, stage_named(name), force=force)
