"""Config of the rounds of ``empathic run`` (``rounds.count`` > 1: the loop runs more than once; pipeline/rounds.py).

A leaf module beside ``run_config.py``, like every stage's ``config.py``: it imports nothing of the project, so
resolving a run's config never imports the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field

from .label.config import SIMULATED_ANNOTATORS, SIMULATED_KAPPA, SIMULATED_POSITION_BIAS

LABELLERS = ("human", "simulated")


@dataclass
class RoundsConfig:
    """Run the loop N times: sample from the latest policy -> select tasks -> label -> refresh r -> continue RL."""

    count: int = field(default=1, metadata={
        "help": "Rounds of the loop. 1: today's single pass. N > 1: after round 1 (the usual stages), rounds 2..N "
                "each sample from the previous round's policy on fresh contexts, select tasks (acquire), get them "
                "labelled, refresh the reward model (warm start, all labels so far) and continue RL from the last "
                "policy (KL still to π), each in <run>/rounds/<n>/; evaluate reads the last round's policy. Raising "
                "it later keeps the rounds already done."})
    contexts_per_round: int = field(default=64, metadata={
        "help": "Fresh contexts sampled from the latest policy each round (sample.k candidates each): contexts of "
                "sample.split that no earlier round used and that are not RL's held-out prompts. They form the pool "
                "acquire picks acquire.budget tasks from."})
    labeller: str = field(default="human", metadata={
        "help": "Who labels rounds 2..N: human (the round's tasks are imported into the run's label database and the "
                "run stops until they are exported to <run>/rounds/<n>/label/, as round 1 does with "
                "reward.labels=human) or simulated (simulated annotators label them at once through the app's own "
                "assignment rules, in <run>/rounds/<n>/label/label.db; labels are source synthetic:<oracle>)."})
    oracle: str = field(default="judged_empathy", metadata={
        "help": "simulated: the scorer the simulated annotators choose by (a name of empathic_rlhf.scorers: "
                "judged_empathy -- the judge that reads the conversation, `empathic judge build` --, context_fit, "
                "empathy, static, length, er, ip, ex, emotion_fit, reward_model:<dir>, dyme:<dir>, pmi:<lm dir>)."})
    annotators: int = field(default=SIMULATED_ANNOTATORS, metadata={"help": "simulated: how many simulated annotators."})
    kappa: float = field(default=SIMULATED_KAPPA, metadata={
        "help": "simulated: the Cohen's kappa two simulated annotators reach (people reach ~0.4 on this task)."})
    position_bias: float = field(default=SIMULATED_POSITION_BIAS, metadata={
        "help": "simulated: the simulated annotators' bias towards the reply shown first (label/noisy_annotator.py)."})

    def __post_init__(self):
        if self.count < 1:
            raise ValueError(f"count must be >= 1 (1: a single pass), got {self.count}")
        if self.contexts_per_round < 1:
            raise ValueError(f"contexts_per_round must be >= 1, got {self.contexts_per_round}")
        if self.labeller not in LABELLERS:
            raise ValueError(f"labeller must be one of {', '.join(LABELLERS)}, got {self.labeller!r}")
        if self.annotators < 1:
            raise ValueError(f"annotators must be >= 1, got {self.annotators}")

    @property
    def source(self) -> str:
        """The label source the rounds collect: ``human`` or ``synthetic:<oracle>``."""
        return "human" if self.labeller == "human" else f"synthetic:{self.oracle}"
