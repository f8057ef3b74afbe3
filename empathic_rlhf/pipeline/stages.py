"""The stages of the loop, in order. Each stage names the config sections it depends on, its input paths and
a function that runs it; ``empathic run`` walks this list and skips what is up to date."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..dpo import stage as dpo_stage
from ..dyme import stage as dyme_stage
from ..evaluate import stage as evaluate_stage
from ..report import stage as report_stage
from ..reward import stage as reward_stage
from ..rl import stage as rl_stage
from ..rundir import RunDir
from ..sample import stage as sample_stage
from ..sft import stage as sft_stage
from .config import RunConfig


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


def _prepare_inputs(config: RunConfig, run: RunDir) -> dict[str, str]:
    from ..data.sources import resolve

    source = resolve(config.data.data_dir)
    return {f"data/{split}": str(source.file(split)) for split in config.prepare.splits}


def _prepare_run(config: RunConfig, run: RunDir) -> dict:
    from ..data.prepare import format_stats, prepare
    from ..models.loading import load_tokenizer

    tokenizer = load_tokenizer(config.model.base_model, config.model.dialogue_format)
    stats = prepare(config.data, config.prepare, tokenizer, run.stage_dir("prepare"))
    print(format_stats(stats))
    return {"outputs": ["prepare/stats.json"] + [f"prepare/{s}" for s in config.prepare.splits],
            "summary": {split: c["samples"] for split, c in stats["splits"].items()}}


STAGES: tuple[Stage, ...] = (
    Stage("prepare", ("data", "model", "prepare"), _prepare_inputs, _prepare_run),
    Stage("sft", ("model", "sft"), sft_stage.inputs, sft_stage.run, needs=("prepare",)),
    Stage("sample", ("model", "sample"), sample_stage.inputs, sample_stage.run, needs=sample_stage.needs),
    Stage("reward", ("model", "prepare", "reward"), reward_stage.inputs, reward_stage.run, needs=("sample",)),
    Stage("dyme", ("data", "dyme"), dyme_stage.inputs, dyme_stage.run, enabled=dyme_stage.enabled),
    Stage("rl", ("model", "prepare", "rl"), rl_stage.inputs, rl_stage.run, needs=rl_stage.needs),
    Stage("dpo", ("model", "prepare", "reward", "dpo"), dpo_stage.inputs, dpo_stage.run, needs=("reward",)),
    Stage("evaluate", ("model", "evaluate"), evaluate_stage.inputs, evaluate_stage.run,
          needs=evaluate_stage.needs),
    Stage("report", (), report_stage.inputs, report_stage.run),
)


def stage_named(name: str) -> Stage:
    return {s.name: s for s in STAGES}[name]
