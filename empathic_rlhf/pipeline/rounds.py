"""Rounds: the loop runs more than once (``rounds.count`` > 1; docs/rounds.md).

Round 1 is the usual pipeline (prepare -> sft -> sample -> reward -> rl, in the run's own folders). The ``rounds``
stage, right after ``rl``, runs rounds 2..N; each lives in ``<run>/rounds/<n>/``, a run-shaped folder with its
own ``manifest.json``, and walks round_stages.py's stages -- sample -> acquire -> label -> reward -> rl -- skipping
those whose config and inputs did not change, exactly as ``empathic run`` does for the run's stages. So a kill
anywhere (between rounds, or between two stages of a round) resumes where it stopped, and raising
``rounds.count`` later keeps the rounds already done: a round's config hash leaves ``count`` out.

Data flows forward only: round n reads round n-1's policy (``rl/model``), reward model and labels so far
(``reward/``) -- round 1's being the run's own folders -- and writes its own. ``<run>/rounds/summary.json`` holds
one row per finished round (what the report's Rounds table shows); evaluate reads the last round's policy.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import config as cfg
from ..io import write_json
from ..run_config import RunConfig
from ..rundir import RunDir, Timer, round_path
from . import round_stages

SUMMARY = "rounds/summary.json"


@dataclass(frozen=True)
class RoundStage:
    name: str
    sections: tuple[str, ...]      # run-config sections whose change reruns it
    rounds_keys: tuple[str, ...]   # the rounds settings it reads (never count: adding rounds keeps the done ones)
    inputs: Callable[..., dict[str, str]]
    run: Callable[..., dict]


ROUND_STAGES: tuple[RoundStage, ...] = (
    RoundStage("sample", ("model", "sample"), ("contexts_per_round",), round_stages.sample_inputs,
               round_stages.sample),
    RoundStage("acquire", ("acquire",), ("labeller", "oracle"), round_stages.acquire_inputs, round_stages.acquire),
    RoundStage("label", ("label",), ("labeller", "oracle", "annotators", "kappa", "position_bias"),
               round_stages.label_inputs, round_stages.label),
    RoundStage("reward", ("model", "prepare", "reward"), ("labeller", "oracle"), round_stages.reward_inputs,
               round_stages.reward),
    RoundStage("rl", ("model", "prepare", "rl", "static_reward"), (), round_stages.rl_inputs, round_stages.rl),
)
ROUND_STAGE_NAMES = tuple(stage.name for stage in ROUND_STAGES)


@dataclass
class RoundDir(RunDir):
    """A later round's folder: its own stages' folders and manifest; the stages it does not repeat (prepare, sft,
    dyme) are the run's."""

    main: RunDir | None = None

    def stage_dir(self, stage: str) -> Path:
        return self.path / stage if stage in ROUND_STAGE_NAMES else self.main.stage_dir(stage)


def round_dir(config, number: int) -> RunDir:
    """Round ``number``'s folder: the run itself for round 1."""
    main = RunDir(config.run_path)
    return main if number <= 1 else RoundDir(round_path(config.run_path, number), main)


@dataclass
class Round:
    """Round ``number`` (>= 2) of a run: its folder, the previous round's and all earlier ones."""

    config: object
    number: int

    @property
    def main(self) -> RunDir:
        return RunDir(self.config.run_path)

    @property
    def here(self) -> RunDir:
        return round_dir(self.config, self.number)

    @property
    def previous(self) -> RunDir:
        return round_dir(self.config, self.number - 1)

    @property
    def earlier(self) -> list[RunDir]:
        return [round_dir(self.config, n) for n in range(1, self.number)]


def round_stage_config(r: Round, stage: RoundStage) -> dict:
    """What a round's stage depends on: the seed, the round number, its sections and its rounds settings."""
    rounds = cfg.to_dict(r.config.rounds)
    return {"seed": r.config.seed, "round": r.number,
            **{name: cfg.to_dict(getattr(r.config, name)) for name in stage.sections},
            "rounds": {key: rounds[key] for key in stage.rounds_keys}}


def run_round_stage(r: Round, stage: RoundStage) -> dict:
    """Run one stage of round ``r`` unless it is up to date; record it in the round's manifest."""
    here = r.here
    tag = f"[round {r.number} {stage.name}]"
    inputs = stage.inputs(r)
    own = round_stage_config(r, stage)
    digest = cfg.config_hash(own)
    defaults = round_stage_config(Round(RunConfig(), r.number), stage)  # fields added since keep it up to date
    if here.is_current(stage.name, own, defaults, inputs):
        print(f"{tag} up to date, skipped", file=sys.stderr)
        return here.manifest()["stages"][stage.name]
    print(f"{tag} running", file=sys.stderr)
    with Timer() as timer:
        result = stage.run(r)
    here.record(stage.name, digest, inputs, result["outputs"], timer.seconds, result.get("summary"), config=own)
    print(f"{tag} done in {timer.seconds:.1f} s", file=sys.stderr)
    return here.manifest()["stages"][stage.name]


# ---- the ``rounds`` stage of the pipeline (pipeline/stages.py) ----

def enabled(config) -> bool:
    return config.rounds.count > 1


def inputs(config, run) -> dict[str, str]:
    """Round 1's outputs, and every later round's label export (a new export reruns that round's later stages)."""
    found = {name: str(run.path / name) for name in ("rl/model", "reward/model", "reward/labels.jsonl",
                                                     "sample/tasks.jsonl")}
    found.update({f"round{n}/label": str(round_path(run.path, n) / "label" / "labels.jsonl")
                  for n in range(2, config.rounds.count + 1)})
    return found


def run(config, run) -> dict:
    """Rounds 2..N, in order, each stage skipped when up to date; ``rounds/summary.json`` after every round."""
    from .round_summary import round_row

    rows = [round_row(config, 1)]
    for number in range(2, config.rounds.count + 1):
        r = Round(config, number)
        for stage in ROUND_STAGES:
            run_round_stage(r, stage)
        rows.append(round_row(config, number))
        write_json(run.path / SUMMARY, {"rounds": rows})
    last = rows[-1]
    return {"outputs": [f"rounds/{config.rounds.count}/rl/model", SUMMARY],
            "summary": {"rounds": len(rows), "labels": last["labels"], "label_source": last["label_source"],
                        "heldout_accuracy": last["reward_accuracy"], "rl_gain_vs_pi": last["rl_gain"],
                        "rl_gain_se": last["rl_gain_se"], "final_policy": last["policy"]}}
