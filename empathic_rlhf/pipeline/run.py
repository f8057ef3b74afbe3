"""Run stages in order, skipping those whose config and inputs did not change since they last finished."""

from __future__ import annotations

import sys

from .. import config as cfg
from ..distributed import is_main_process, main_process_only, num_processes, wait_for_everyone
from ..errors import EmpathicError
from ..run_config import RunConfig
from ..rundir import RunDir, Timer
from .launch import SINGLE_PROCESS_STAGES, TRAINING_STAGES
from .stages import STAGES, Stage, stage_named


def stage_config(config: RunConfig, stage: Stage) -> dict:
    """The part of the config a stage depends on: the seed and its sections (recorded in its manifest entry)."""
    return {"seed": config.seed, **{name: cfg.to_dict(getattr(config, name)) for name in stage.sections}}


def stage_hash(config: RunConfig, stage: Stage) -> str:
    """Hash of the seed and the config sections the stage depends on."""
    return cfg.config_hash(stage_config(config, stage))


def is_up_to_date(run: RunDir, config: RunConfig, stage: Stage, inputs: dict) -> bool:
    """Whether ``stage`` finished with this config and these inputs. Its manifest entry may predate config fields
    added since: those count as unchanged while they keep their defaults (:func:`config.without_new_defaults`)."""
    return run.is_current(stage.name, stage_config(config, stage), stage_config(RunConfig(), stage), inputs)


def run_stage(config: RunConfig, stage: Stage, *, force: bool = False, launcher=None) -> dict:
    """Run one stage (unless up to date and not forced) and record it in the manifest.

    Only a stage that finished writes anything beside its own folder: its manifest entry (with its config) and
    the run's ``config.yaml``; a failed stage leaves both as they were.

    Under ``accelerate launch`` (several processes) the main process decides whether the stage is up to date and
    writes the record; a training stage runs on every process, any other stage on the main process only while
    the others wait (:mod:`empathic_rlhf.distributed`). With a ``launcher`` (``empathic run --launcher
    accelerate``) an out-of-date training stage runs as an ``accelerate launch`` subprocess, which records it.
    """
    if stage.name in SINGLE_PROCESS_STAGES and num_processes() > 1:
        raise EmpathicError(f"the {stage.name} stage runs in one process: start it with `empathic run --launcher "
                            "accelerate` (not under accelerate launch), which distributes the training stages only")
    run = RunDir(config.run_path)
    inputs = stage.inputs(config, run)
    digest = stage_hash(config, stage)
    up_to_date = main_process_only(is_up_to_date)(run, config, stage, inputs)
    if up_to_date and not force:
        _say(f"[{stage.name}] up to date, skipped (--force to rerun)")
        return main_process_only(run.manifest)()["stages"][stage.name]
    if launcher is not None and stage.name in TRAINING_STAGES:
        launcher.run_stage(config, stage.name, force=force)
        return run.manifest()["stages"][stage.name]
    reason = "up to date, rerun because of --force" if up_to_date else "running"
    _say(f"[{stage.name}] {reason}" + (f" on {num_processes()} processes" if stage.name in TRAINING_STAGES
                                         and num_processes() > 1 else ""))
    with Timer() as timer:
        result = stage.run(config, run) if stage.name in TRAINING_STAGES else main_process_only(stage.run)(config,
                                                                                                         run)
    wait_for_everyone()  # every process is done with the stage before its record says so

    @main_process_only
    def record() -> dict:
        run.record(stage.name, digest, inputs, result["outputs"], timer.seconds, result.get("summary"),
                   config=stage_config(config, stage))
        run.save_config(cfg.to_dict(config))
        return run.manifest()["stages"][stage.name]

    entry = record()
    _say(f"[{stage.name}] done in {timer.seconds:.1f} s")
    return entry


def _say(line: str) -> None:
    """A progress line, printed once (by the main process) however many processes run."""
    if is_main_process():
        print(line, file=sys.stderr)


def run_pipeline(config: RunConfig, *, force: bool = False, until: str | None = None, launcher=None) -> dict:
    """Run every enabled stage in order (up to ``until``, a stage name); returns the manifest's stage entries.
    ``launcher``: an :class:`~empathic_rlhf.pipeline.launch.AccelerateLauncher` for the training stages, or None."""
    if until is not None:
        stage_named(until)  # an unknown name fails here, before anything runs
    entries = {}
    for stage in STAGES:
        if stage.enabled(config):
            entries[stage.name] = run_stage(config, stage, force=force, launcher=launcher)
        if stage.name == until:  # also when that stage is off (e.g. --until rounds with one round)
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
