"""Config of ``empathic acquire``: which sampled tasks to send to people, by which acquisition rule."""

from __future__ import annotations

from dataclasses import dataclass, field

RULES = ("random", "bt-half", "ensemble", "bald", "epig")
LABEL_SOURCES = ("auto", "human", "simulated", "gold-vs-policy")
FEATURE_KINDS = ("reply", "reply+product")  # see features.py


@dataclass
class AcquireConfig:
    """Pick the comparison tasks people label next: those a cheap reward-model ensemble is least sure about."""

    rule: str = field(default="ensemble", metadata={
        "help": "Acquisition rule: random (baseline), bt-half (ensemble-mean P(a>b) closest to 1/2), ensemble "
                "(variance of the members' choice probabilities), bald (mutual information between the label and "
                "the model), epig (expected information the label gives about the labels of other pool tasks). "
                "Formulas and the label-efficiency benchmark: docs/acquire.md."})
    budget: int = field(default=200, metadata={"help": "Tasks to send to people in this selection (>= 1)."})
    ensemble_size: int = field(default=8, metadata={
        "help": "Bradley-Terry models in the bootstrap ensemble (>= 2; each fits a resample of the labelled "
                "pairs)."})
    max_per_conversation: int = field(default=1, metadata={
        "help": "At most this many chosen tasks share one conversation (>= 1)."})
    min_distance: float = field(default=0.05, metadata={
        "help": "Skip a task whose context embedding lies closer than this cosine distance (1 - cosine) to an "
                "already chosen task's context, in [0, 2); 0 turns the check off."})
    features: str = field(default="reply", metadata={
        "help": "Candidate features on frozen all-MiniLM-L6-v2 embeddings: reply (the reply's embedding) or "
                "reply+product (also reply * context elementwise, scaled by sqrt(384) to the reply part's norm)."})
    l2: float = field(default=0.1, metadata={
        "help": "Inverse L2 strength C of each Bradley-Terry logistic regression (> 0; smaller: smoother)."})
    bootstrap_weight: float = field(default=0.0, metadata={
        "help": "Weight of each gold-vs-policy bootstrap pair beside labelled ones, in [0, 1] (0: the bootstrap "
                "only starts the loop; docs/acquire.md measures why). With no labelled pairs yet the bootstrap "
                "pairs alone train the ensemble (weight 1), so selection works from zero labels."})
    labels: str = field(default="auto", metadata={
        "help": "Labelled pairs the stage trains on: auto (<run>/label/labels.jsonl when it exists, else only "
                "the gold-vs-policy bootstrap), human (must exist), simulated (the `synthetic:<oracle>` labels of `empathic "
                "label simulate`, for dry runs) or gold-vs-policy (bootstrap only). auto and human use people's "
                "labels only: simulated ones are left out and counted."})

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError(f"rule must be one of {', '.join(RULES)}, got {self.rule!r}")
        if self.features not in FEATURE_KINDS:
            raise ValueError(f"features must be one of {', '.join(FEATURE_KINDS)}, got {self.features!r}")
        if self.labels not in LABEL_SOURCES:
            raise ValueError(f"labels must be one of {', '.join(LABEL_SOURCES)}, got {self.labels!r}")
        if self.budget < 1:
            raise ValueError(f"budget must be >= 1, got {self.budget}")
        if self.ensemble_size < 2:
            raise ValueError(f"ensemble_size must be >= 2 (a disagreement needs two models), got {self.ensemble_size}")
        if self.max_per_conversation < 1:
            raise ValueError(f"max_per_conversation must be >= 1, got {self.max_per_conversation}")
        if not 0.0 <= self.min_distance < 2.0:
            raise ValueError(f"min_distance must lie in [0, 2), got {self.min_distance}")
        if not self.l2 > 0:
            raise ValueError(f"l2 must be > 0, got {self.l2}")
        if not 0.0 <= self.bootstrap_weight <= 1.0:
            raise ValueError(f"bootstrap_weight must lie in [0, 1], got {self.bootstrap_weight}")
