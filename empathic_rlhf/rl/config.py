"""Config of online RL against the reward (``empathic rl``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RlConfig:
    """RLOO (default) or GRPO from TRL, with a KL penalty to π and an adaptive KL controller on top."""

    algorithm: str = field(default="rloo", metadata={
        "help": "rloo (TRL's RLOOTrainer: reward - beta*KL(pi_theta||pi) per sequence, leave-one-out baseline; "
                "stands in for PPO, which TRL 1.16 no longer has) or grpo (KL in the loss)."})
    beta: float = field(default=0.05, metadata={
        "help": "Initial KL coefficient. Must be > 0: GRPO's default of 0 means no KL penalty at all."})
    adaptive_kl: bool = field(default=True, metadata={
        "help": "Steer the sequence KL to kl_target (lm-human-preferences' controller); false: fixed beta."})
    kl_target: float = field(default=6.0, metadata={"help": "Target KL(pi_theta||pi) per reply, in nats."})
    kl_horizon: int = field(default=10_000, metadata={"help": "Controller horizon, in episodes."})
    rewards: dict[str, float] = field(default_factory=lambda: {"reward_model": 1.0}, metadata={
        "help": "Weighted reward components: reward_model (normalised), static (utterance reward), dyme."})
    normalize_rewards: bool = field(default=True, metadata={
        "help": "Standardise each component except the reward model (normalised by its stage) to mean 0 / std 1 "
                "over π's replies to the held-out prompts, before training: raw DYME spreads ~0.04, static ~0.1, "
                "too little to move the policy against beta (rl/normalize.py)."})
    missing_eos_penalty: float = field(default=1.0, metadata={
        "help": "Subtracted from the reward of a reply that never ends (no end-of-reply token)."})
    mask_truncated_completions: bool = field(default=True, metadata={
        "help": "Leave truncated replies out of the loss (TRL), so never-ending replies teach nothing."})
    num_generations: int = field(default=4, metadata={"help": "Replies sampled per prompt (the RLOO group)."})
    prompts_per_step: int = field(default=4, metadata={"help": "Prompts per optimizer step."})
    max_completion_length: int = field(default=40, metadata={"help": "Longest reply, in tokens."})
    temperature: float = field(default=1.0, metadata={
        "help": "Sampling temperature. Keep 1.0 (no top-p/top-k): the KL estimate assumes replies are sampled "
                "from the policy itself; mismatched settings give negative KL."})
    learning_rate: float = field(default=1e-5, metadata={"help": "Peak learning rate."})
    max_steps: int = field(default=100, metadata={"help": "Optimizer steps."})
    eval_steps: int = field(default=10, metadata={
        "help": "Every N steps: score held-out prompts, log sample replies, keep the best checkpoint."})
    eval_prompts: int = field(default=16, metadata={"help": "Held-out prompts for checkpoint selection."})
    kl_budget: float = field(default=12.0, metadata={
        "help": "Checkpoints whose held-out KL exceeds this are never kept (guards against over-optimisation)."})
    prompt_split: str = field(default="valid", metadata={
        "help": "Prepared split whose contexts are the RL prompts; contexts used for comparison tasks "
                "(labelling) are excluded, so r is never optimised on the contexts it was trained on."})
    max_prompts: int | None = field(default=None, metadata={"help": "Use at most N prompts (demo subsets)."})
    report_to: list[str] = field(default_factory=list, metadata={"help": "tensorboard and/or wandb."})

    def __post_init__(self):
        if self.algorithm not in ("rloo", "grpo"):
            raise ValueError(f"algorithm must be rloo or grpo, got {self.algorithm!r}")
        if self.beta <= 0:
            raise ValueError("beta must be > 0: without a KL penalty the policy drifts from π unchecked")
        if self.num_generations < 2:
            raise ValueError("num_generations must be >= 2 (the leave-one-out baseline needs a group)")
        unknown = set(self.rewards) - {"reward_model", "static", "dyme"}
        if unknown or not self.rewards:
            raise ValueError(f"rewards must weight reward_model, static and/or dyme, got {self.rewards}")
