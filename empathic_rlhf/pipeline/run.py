"""Walk the stages: ``empathic run`` (every enabled stage in order) and a single-stage command (the stages it needs,
then the stage). Each stage goes through the one runner (:func:`~empathic_rlhf.pipeline.runner.run_stage`), which
skips those whose config and inputs did not change since they last finished."""

from __future__ import annotations

from ..run_config import RunConfig
from ..stage import Context
from .runner import run_stage
from .stages import STAGES, stage_named


def run_pipeline(config: RunConfig, *, force: bool = False, until: str | None = None, launcher=None) -> dict:
    """Run every enabled stage in order (up to ``until``, a stage name); returns the manifest's stage entries.
    ``launcher``: an :class:`~empathic_rlhf.pipeline.launch.AccelerateLauncher` for the training stages, or None."""
    if until is not None:
        stage_named(until)  # an unknown name fails here, before anything runs
    entries = {}
    for stage in STAGES:
        if stage.enabled(config):
            entries[stage.name] = run_stage(Context(config), stage, force=force, launcher=launcher)
        if stage.name == until:  # also when that stage is off (e.g. --until rounds with one round)
            break
    return entries


def needed_stages(config: RunConfig, name: str) -> list[str]:
    """The stages ``name`` needs, transitively, in the order they run (``name`` itself last)."""
    order: list[str] = []

    def visit(current: str) -> None:
        for needed in stage_named(current).needed(config):
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
        run_stage(Context(config), stage_named(needed))
    return run_stage(Context(config), stage_named(name), force=force)
