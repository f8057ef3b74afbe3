"""The one runner: run a stage in a context unless it is up to date, and record it in the manifest.

``empathic run`` (pipeline/run.py), every round of ``--rounds N`` (pipeline/rounds.py) and every single-stage command
(``empathic sft``, ``empathic acquire`` ...) call :func:`run_stage`; nothing else decides whether a stage reruns.
"""

from __future__ import annotations

import sys

from .. import config as cfg
from ..distributed import is_main_process, main_process_only, num_processes, wait_for_everyone
from ..errors import EmpathicError
from ..rundir import Timer, drop_checkpoints
from ..stage import Context, Stage


def run_stage(context: Context, stage: Stage, *, force: bool = False, launcher=None) -> dict:
    """Run ``stage`` in ``context`` (unless up to date and not forced) and record it in the context's manifest.

    Only a stage that finished writes anything beside its own folder: its manifest entry (with its config) and,
    for the run's own stages, the run's ``config.yaml``; a failed stage leaves both as they were. Once a training
    stage is recorded its checkpoints are removed (only an interrupted stage resumes from them), unless the config
    says ``keep_checkpoints``.

    Under ``accelerate launch`` (several processes) the main process decides whether the stage is up to date and
    writes the record; a training stage runs on every process, any other stage on the main process only while
    the others wait (:mod:`empathic_rlhf.distributed`). With a ``launcher`` (``empathic run --launcher
    accelerate``) an out-of-date training stage runs as an ``accelerate launch`` subprocess, which records it.
    """
    if stage.single_process and num_processes() > 1:
        raise EmpathicError(f"the {stage.name} stage runs in one process: start it with `empathic run --launcher "
                            "accelerate` (not under accelerate launch), which distributes the training stages only")
    run, tag = context.run, context.tag(stage)
    inputs = stage.inputs(context)
    own = context.stage_config(stage)
    up_to_date = main_process_only(context.is_current)(stage, inputs)
    if up_to_date and not force:
        _say(f"{tag} up to date, skipped" + (" (--force to rerun)" if context.round is None else ""))
        return main_process_only(run.manifest)()["stages"][stage.name]
    if launcher is not None and stage.trains:
        launcher.run_stage(context, stage, force=force)
        return run.manifest()["stages"][stage.name]
    reason = "up to date, rerun because of --force" if up_to_date else "running"
    _say(f"{tag} {reason}" + (f" on {num_processes()} processes" if stage.trains and num_processes() > 1 else ""))
    with Timer() as timer:
        result = stage.run(context) if stage.trains else main_process_only(stage.run)(context)
    wait_for_everyone()  # every process is done with the stage before its record says so

    @main_process_only
    def record() -> dict:
        run.record(stage.name, cfg.config_hash(own), inputs, result["outputs"], timer.seconds, result.get("summary"),
                   config=own)
        if context.round is None:  # a round's folder has no config of its own: the run's is the one
            run.save_config(cfg.to_dict(context.config))
        if stage.trains and not context.config.keep_checkpoints:  # after the record: a kill before it resumes
            drop_checkpoints(run.stage_dir(stage.name))
        return run.manifest()["stages"][stage.name]

    entry = record()
    _say(f"{tag} done in {timer.seconds:.1f} s")
    return entry


def _say(line: str) -> None:
    """A progress line, printed once (by the main process) however many processes run."""
    if is_main_process():
        print(line, file=sys.stderr)
