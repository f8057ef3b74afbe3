"""Rounds: the loop runs more than once (``rounds.count`` > 1; docs/rounds.md).

Round 1 is the usual pipeline (prepare -> sft -> sample -> reward -> rl, in the run's own folders). The ``rounds``
stage, right after ``rl``, runs rounds 2..N; each lives in ``<run>/rounds/<n>/``, a run-shaped folder with its
own ``manifest.json``, and runs the round stages of pipeline/stages.py -- sample -> acquire -> label -> reward -> rl,
the very stage objects ``empathic run`` runs -- through the one runner against the round's :class:`Round`, skipping
those whose config and inputs did not change. So a kill anywhere (between rounds, or between two stages of a round)
resumes where it stopped, and raising ``rounds.count`` later keeps the rounds already done: a round's config leaves
``count`` out.

Data flows forward only: round n reads round n-1's policy (``rl/model``), reward model and labels so far
(``reward/``) -- round 1's being the run's own folders -- and writes its own. ``<run>/rounds/summary.json`` holds
one row per finished round (what the report's Rounds table shows); evaluate reads the last round's policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ..io import write_json
from ..records import Label, Pair, Task, pairs_from_label, read_records
from ..rundir import RunDir, round_path
from ..stage import Context, Stage
from .round_data import accumulate, fresh_contexts, round_rl_prompts
from .round_summary import round_row
from .runner import run_stage

SUMMARY = "rounds/summary.json"
# The run-config sections the driver depends on: each round's own stages decide what to rerun, so it reads them all.
SECTIONS = ("model", "prepare", "sample", "acquire", "label", "reward", "rl", "static_reward", "rounds")


@dataclass
class RoundDir(RunDir):
    """A later round's folder: the folders of the stages it repeats (``own``) and its manifest; the stages it does
    not repeat (prepare, sft, dyme) are the run's."""

    main: RunDir | None = None
    own: tuple[str, ...] = ()

    def stage_dir(self, stage: str) -> Path:
        return self.path / stage if stage in self.own else self.main.stage_dir(stage)


@dataclass
class Round:
    """Round ``number`` (>= 2) of a run: which policy it starts from, which contexts it may sample, which labels it
    has so far. ``own``: the stages a round repeats (their folders are the round's)."""

    config: object
    number: int
    own: tuple[str, ...]

    def folder(self, number: int) -> RunDir:
        """Round ``number``'s folder: the run itself for round 1."""
        main = RunDir(self.config.run_path)
        return main if number <= 1 else RoundDir(round_path(self.config.run_path, number), main, self.own)

    @property
    def main(self) -> RunDir:
        return RunDir(self.config.run_path)

    @property
    def here(self) -> RunDir:
        return self.folder(self.number)

    @property
    def previous(self) -> RunDir:
        return self.folder(self.number - 1)

    @property
    def earlier(self) -> list[RunDir]:
        return [self.folder(n) for n in range(1, self.number)]

    def context(self) -> Context:
        return Context(self.config, self.here, self)

    # ---- what the round's stages ask ----

    @property
    def policy(self) -> str:
        """The policy the round samples from and continues RL from: the previous round's."""
        return str(self.previous.stage_dir("rl") / "model")

    def contexts(self):
        """The round's fresh contexts: none that an earlier round's pool used, none of RL's held-out prompts."""
        return fresh_contexts(self.config, self.main, self.earlier, self.number)

    def rl_prompts(self):
        """RL's (training, selection, report) prompts: no round's pool so far, round 1's held-out sets."""
        return round_rl_prompts(self.config, self.main, [*self.earlier, self.here])

    def labelled_pairs(self) -> list[Pair]:
        """The pairs of the labels so far (before this round's), of the kind the rounds collect."""
        before = self.previous.stage_dir("reward")
        known = before / "tasks.jsonl"
        tasks = {t.task_id: t for t in read_records(known, Task)} if known.is_file() else {}
        labels = [label for label in read_records(before / "labels.jsonl", Label)
                  if label.source == self.config.rounds.source and label.task_id in tasks]
        return [pair for label in labels for pair in pairs_from_label(tasks[label.task_id], label)]

    def labels_so_far(self) -> tuple[list[Task], list[Label], dict]:
        """The labels so far, this round's new export included, the tasks they refer to, and counts."""
        return accumulate(self.previous.stage_dir("reward"), self.here.stage_dir("label"), self.config.rounds.source)


# ---- the ``rounds`` stage of the pipeline (pipeline/stages.py) ----

def enabled(config) -> bool:
    return config.rounds.count > 1


def inputs(context: Context) -> dict[str, str]:
    """Round 1's outputs, and every later round's label export (a new export reruns that round's later stages)."""
    config, run = context.config, context.run
    found = {name: str(run.path / name) for name in ("rl/model", "reward/model", "reward/labels.jsonl",
                                                     "sample/tasks.jsonl")}
    found.update({f"round{n}/label": str(round_path(run.path, n) / "label" / "labels.jsonl")
                  for n in range(2, config.rounds.count + 1)})
    return found


def run(context: Context, stages: tuple[Stage, ...]) -> dict:
    """Rounds 2..N, in order, each of ``stages`` skipped when up to date; ``rounds/summary.json`` after every
    round."""
    config, run_dir = context.config, context.run
    own = tuple(stage.name for stage in stages)
    rows = [round_row(config, 1)]
    for number in range(2, config.rounds.count + 1):
        later = Round(config, number, own).context()
        for stage in stages:
            run_stage(later, stage)
        rows.append(round_row(config, number))
        write_json(run_dir.path / SUMMARY, {"rounds": rows})
    last = rows[-1]
    return {"outputs": [f"rounds/{config.rounds.count}/rl/model", SUMMARY],
            "summary": {"rounds": len(rows), "labels": last["labels"], "label_source": last["label_source"],
                        "heldout_accuracy": last["reward_accuracy"], "rl_gain_vs_pi": last["rl_gain"],
                        "rl_gain_se": last["rl_gain_se"], "final_policy": last["policy"]}}


def rounds_stage(stages: tuple[Stage, ...]) -> Stage:
    """The ``rounds`` stage of ``empathic run``, running ``stages`` in each of rounds 2..N."""
    return Stage("rounds", SECTIONS, inputs, partial(run, stages=stages), needs=("rl",), enabled=enabled,
                 single_process=True)
