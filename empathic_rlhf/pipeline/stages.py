"""The stages, listed. Each stage package declares its own :class:`~empathic_rlhf.stage.Stage` (``STAGE`` in its
``stage.py``: config sections, needs, inputs, run, whether it trains, its command, how it repeats in rounds);
this module only says which stages ``empathic run`` walks, in which order, and which ones every later round runs.
"""

from __future__ import annotations

from ..acquire.stage import STAGE as ACQUIRE
from ..dpo.stage import STAGE as DPO
from ..dyme.stage import STAGE as DYME
from ..errors import EmpathicError
from ..evaluate.stage import STAGE as EVALUATE
from ..label.stage import STAGE as LABEL
from ..prepare.stage import STAGE as PREPARE
from ..report.stage import STAGE as REPORT
from ..reward.stage import STAGE as REWARD
from ..rl.stage import STAGE as RL
from ..sample.stage import STAGE as SAMPLE
from ..sft.stage import STAGE as SFT
from ..stage import Stage
from .rounds import rounds_stage

# What every later round of `--rounds N` runs, in order (pipeline/rounds.py), against the round's context.
ROUND_STAGES: tuple[Stage, ...] = (SAMPLE, ACQUIRE, LABEL, REWARD, RL)
# What `empathic run` walks, in order; `rounds` (rounds 2..N) runs only when rounds.count > 1.
STAGES: tuple[Stage, ...] = (PREPARE, SFT, SAMPLE, REWARD, DYME, RL, rounds_stage(ROUND_STAGES), DPO, EVALUATE,
                             REPORT)
# Stages with a command of their own that `empathic run` does not walk.
COMMAND_STAGES: tuple[Stage, ...] = (ACQUIRE,)
STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)
ALL_STAGES: tuple[Stage, ...] = tuple({s.name: s for s in (*STAGES, *ROUND_STAGES, *COMMAND_STAGES)}.values())


def stage_named(name: str) -> Stage:
    """The stage called ``name``; an unknown name is an error listing the stages."""
    for stage in ALL_STAGES:
        if stage.name == name:
            return stage
    raise EmpathicError(f"unknown stage {name!r} (stages: {', '.join(s.name for s in ALL_STAGES)})")
