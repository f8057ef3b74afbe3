"""The stages of the loop, in order. Each stage names the config sections it depends on, its input paths and
a function that runs it; ``empathic run`` walks this list and skips what is up to date."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..dpo import stage as dpo_stage
from ..dyme import stage as dyme_stage
from ..errors import EmpathicError
from ..evaluate import stage as evaluate_stage
from ..prepare import stage as prepare_stage
from ..report import stage as report_stage
from ..reward import stage as reward_stage
from ..rl import stage as rl_stage
from ..run_config import RunConfig
from ..rundir import RunDir
from ..sample import stage as sample_stage
from ..sft import stage as sft_stage
from . import rounds


@dataclass(frozen=True)
class Stage:
    name: str
    sections: tuple[str, ...]  # config sections whose change reruns the stage
    inputs: Callable[[RunConfig, RunDir], dict[str, str]]
    run: Callable[[RunConfig, RunDir], dict]  # returns {"outputs": [paths relative to the run], "summary": {...}}
    # Stages whose outputs this one reads (run first by a single-stage command); a function of the config where
    # that depends on it (rl needs reward only when the reward model is a reward component).
    needs: tuple[str, ...] | Callable[[RunConfig], tuple[str, ...]] = ()
    enabled: Callable[[RunConfig], bool] = lambda config: True  # e.g. DYME only when a reward uses it


STAGES: tuple[Stage, ...] = (
    Stage("prepare", ("data", "model", "prepare"), prepare_stage.inputs, prepare_stage.run),
    Stage("sft", ("model", "sft"), sft_stage.inputs, sft_stage.run, needs=("prepare",)),
    Stage("sample", ("model", "sample"), sample_stage.inputs, sample_stage.run, needs=sample_stage.needs),
    Stage("reward", ("model", "prepare", "reward"), reward_stage.inputs, reward_stage.run, needs=("sample",)),
    Stage("dyme", ("data", "dyme"), dyme_stage.inputs, dyme_stage.run, enabled=dyme_stage.enabled),
    Stage("rl", ("model", "prepare", "rl", "static_reward"), rl_stage.inputs, rl_stage.run, needs=rl_stage.needs),
    # rounds 2..N (rounds.count > 1): each round's own stages decide what to rerun, so this driver reads every section
    Stage("rounds", ("model", "prepare", "sample", "acquire", "label", "reward", "rl", "static_reward", "rounds"),
          rounds.inputs, rounds.run, needs=("rl",), enabled=rounds.enabled),
    Stage("dpo", ("model", "prepare", "reward", "dpo"), dpo_stage.inputs, dpo_stage.run, needs=("reward",)),
    Stage("evaluate", ("model", "evaluate"), evaluate_stage.inputs, evaluate_stage.run,
          needs=evaluate_stage.needs),
    Stage("report", (), report_stage.inputs, report_stage.run),
)
STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)


def stage_named(name: str) -> Stage:
    """The stage called ``name``; an unknown name is an error listing the stages."""
    for stage in STAGES:
        if stage.name == name:
            return stage
    raise EmpathicError(f"unknown stage {name!r} (stages: {', '.join(STAGE_NAMES)})")
