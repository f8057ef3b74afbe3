"""What a stage is: the :class:`Stage` each stage package declares once (``<package>/stage.py``: ``STAGE``), and the
:class:`Context` it runs in -- the run itself, or a later round of ``--rounds N``.

A stage's two functions take the context::

    inputs(context) -> {name: path}     the files it reads; their fingerprints decide whether it reruns
    run(context)    -> {"outputs": [paths relative to the folder it writes], "summary": {...}}

One runner (:func:`empathic_rlhf.pipeline.runner.run_stage`) runs every stage -- in ``empathic run``, in rounds
and behind a single-stage command -- and skips it when its config (:meth:`Context.stage_config`) and its inputs did
not change since it last finished. ``pipeline/stages.py`` only lists the stages; adding one is one folder.

In a later round, ``context.round`` says which policy the round starts from, which contexts it may sample and which
labels it has so far (:class:`empathic_rlhf.pipeline.rounds.Round`); in the run itself it is None and each stage
reads the run's own folders. So rounds run the same stage objects as ``empathic run``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import config as cfg
from .run_config import RunConfig
from .rundir import RunDir


def always(config) -> bool:
    return True


@dataclass(frozen=True)
class InRounds:
    """How a stage repeats in rounds 2..N (``rounds.count`` > 1; docs/rounds.md)."""

    keys: tuple[str, ...] = ()  # the rounds settings it reads there (never count: adding rounds keeps the done ones)
    sections: tuple[str, ...] | None = None  # its config sections there, when they are not the stage's own


@dataclass(frozen=True)
class Stage:
    """One stage of the loop: everything the runner, the rounds, the launcher and the CLI need to know of it."""

    name: str
    sections: tuple[str, ...]  # config sections whose change reruns it (with the run's seed)
    inputs: Callable[[Context], dict[str, str]]
    run: Callable[[Context], dict]
    # Stages whose outputs it reads, run first (when out of date) by its single-stage command; a function of the
    # config where that depends on it (rl needs reward only when the reward model is a reward component).
    needs: tuple[str, ...] | Callable[[Any], tuple[str, ...]] = ()
    enabled: Callable[[Any], bool] = always  # whether `empathic run` runs it (dyme: only when a reward uses it)
    trains: bool = False  # a Trainer stage: every process of `accelerate launch` runs it, not only the main one
    command: tuple[str, ...] = ()  # its CLI command (`empathic reward train`: ("reward", "train")); () for none
    rounds: InRounds | None = None  # how it repeats in rounds 2..N; None: it does not
    single_process: bool = False  # runs a loop of stages itself, so never under `accelerate launch` (rounds)
    # Raised in the pipeline's own process before an `accelerate launch` of the stage, for a stop that is not a
    # failure (waiting for labels): a launched process can only exit with a status.
    before_launch: Callable[[Context], None] | None = None

    def needed(self, config) -> tuple[str, ...]:
        return self.needs(config) if callable(self.needs) else self.needs


@dataclass
class Context:
    """Where a stage runs: the run's config, the folder it reads and writes, and -- in rounds 2..N -- the round.

    ``run`` defaults to the run's folder; a round's folder maps the stages it does not repeat (prepare, sft, ...) to
    the run's. ``round`` is None for the run itself (round 1)."""

    config: RunConfig
    run: RunDir | None = None
    round: Any = None  # pipeline.rounds.Round: number, main, previous, earlier, policy, contexts(), ...

    def __post_init__(self):
        if self.run is None:
            self.run = RunDir(self.config.run_path)

    @property
    def number(self) -> int:
        """The round: 1 for the run itself."""
        return 1 if self.round is None else self.round.number

    def tag(self, stage: Stage) -> str:
        return f"[{stage.name}]" if self.round is None else f"[round {self.number} {stage.name}]"

    def stage_config(self, stage: Stage, config=None) -> dict:
        """What the stage depends on (recorded in its manifest entry): the seed and its config sections; in a later
        round also the round's number and the rounds settings it reads."""
        config = self.config if config is None else config
        if self.round is None:
            return {"seed": config.seed, **{name: cfg.to_dict(getattr(config, name)) for name in stage.sections}}
        part = stage.rounds or InRounds()
        sections = stage.sections if part.sections is None else part.sections
        rounds = cfg.to_dict(config.rounds)
        return {"seed": config.seed, "round": self.number,
                **{name: cfg.to_dict(getattr(config, name)) for name in sections},
                "rounds": {key: rounds[key] for key in part.keys}}

    def stage_hash(self, stage: Stage) -> str:
        return cfg.config_hash(self.stage_config(stage))

    def is_current(self, stage: Stage, inputs: dict[str, str]) -> bool:
        """Whether ``stage`` finished with this config and these inputs. Its manifest entry may predate config
        fields added since: those count as unchanged while they keep their defaults (:func:`config.without_new_defaults`)."""
        return self.run.is_current(stage.name, self.stage_config(stage), self.stage_config(stage, RunConfig()),
                                   inputs)
