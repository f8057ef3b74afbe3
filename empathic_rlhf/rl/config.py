"""Config of online RL against the reward (``empathic rl``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import trainer_args_field

# reward_model, dyme and pmi read the run's trained models (rl/rewards.RUN_MODELS); the others name columns of the
# scorer registry (scorers.py)
COMPONENTS = ("reward_model", "static", "dyme", "empathy", "judged_empathy", "context_fit", "emotion_fit", "pmi")


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
    kl_horizon: int | None = field(default=None, metadata={
        "help": "Controller horizon, in episodes (replies). Per step beta moves by at most a factor "
                "1 +- 0.2*n/horizon (n = prompts_per_step*num_generations), so over the run by at most "
                "exp(+-0.2*episodes/horizon). None: a tenth of the run's episodes (max_steps*n), i.e. beta can move "
                "up to e^2 ~ 7x either way. lm-human-preferences' 10,000 suits millions of episodes; on a demo run "
                "of a few thousand it leaves beta fixed in all but name (the summary then says 'fixed beta')."})
    rewards: dict[str, float] = field(default_factory=lambda: {"reward_model": 1.0}, metadata={
        "help": "Weighted reward components: reward_model, static (utterance reward), dyme, empathy (EPITOME "
                "scorer, expected level 0..2, context-free), judged_empathy / context_fit (the judge that reads the "
                "conversation; optimising it makes it useless as the evaluation yardstick), emotion_fit, pmi "
                "(context PMI under the run's SFT model: a stock reply, as likely without the conversation, earns "
                "~0), e.g. "
                "'{reward_model: 1, context_fit: 0.5}'."})
    normalize_rewards: bool = field(default=True, metadata={
        "help": "Standardise every component (reward model included) to mean 0 / std 1 over π's replies sampled "
                "exactly as in RL (temperature 1, no top-p/top-k) to RL prompts, before training, so all are on one "
                "scale and the weights compare like with like (rl/normalize.py)."})
    normalize_prompts: int = field(default=16, metadata={
        "help": "RL prompts π answers (num_generations replies each) for the normalisation statistics."})
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
        "help": "Every N steps: score the selection prompts, log sample replies, keep the best checkpoint."})
    eval_prompts: int = field(default=16, metadata={
        "help": "Held-out prompts of the selection set (checkpoints are chosen on them)."})
    report_prompts: int = field(default=16, metadata={
        "help": "Held-out prompts of the report set, disjoint from the selection set: the kept model and π are "
                "scored on them once at the end, so the reported gain is not inflated by the selection. With few "
                "prompts it is cut to half of what the selection set leaves (none below 2); 0: no report set."})
    eval_samples: int = field(default=4, metadata={
        "help": "Replies per held-out prompt at every check (same seed at every check: paired comparisons)."})
    selection_z: float = field(default=2.0, metadata={
        "help": "A checkpoint replaces the kept one only when its mean paired reward difference on the selection "
                "prompts exceeds selection_z standard errors of that difference (rl/heldout.py)."})
    kl_budget: float = field(default=12.0, metadata={
        "help": "Checkpoints whose held-out KL exceeds this are never kept (guards against over-optimisation)."})
    prompt_split: str = field(default="valid", metadata={
        "help": "Prepared split whose contexts are the RL prompts; contexts used for comparison tasks "
                "(labelling) are excluded, so r is never optimised on the contexts it was trained on."})
    max_prompts: int | None = field(default=None, metadata={"help": "Use at most N prompts (demo subsets)."})
    seed: int | None = field(default=None, metadata={
        "help": "Seed of RL alone (rollout sampling, prompt order, the checks' replies); None: the run's seed. Set "
                "it to repeat RL with another seed on the same π and reward model (earlier stages stay up to date)."})
    init_policy: str | None = field(default=None, metadata={
        "help": "Start RL from this policy folder instead of π (e.g. an earlier RL model); the KL penalty, held-out "
                "KL and reward normalisation stay relative to π. Rounds set it to the previous round's policy."})
    report_to: list[str] = field(default_factory=list, metadata={"help": "tensorboard and/or wandb."})
    use_vllm: bool = field(default=False, metadata={
        "help": "Draw the rollouts with vLLM inside the training process (TRL's use_vllm, vllm_mode=colocate; "
                "GPU only, pip install -e '.[gpu]'); false: the policy's own generate (docs/gpu.md)."})
    vllm_gpu_memory_utilization: float = field(default=0.3, metadata={
        "help": "use_vllm: share of the GPU's memory vLLM takes beside training (TRL's default 0.3)."})
    trainer_args: dict[str, Any] = trainer_args_field("rl", "GRPOConfig / RLOOConfig")

    def __post_init__(self):
        if self.algorithm not in ("rloo", "grpo"):
            raise ValueError(f"algorithm must be rloo or grpo, got {self.algorithm!r}")
        if self.beta <= 0:
            raise ValueError("beta must be > 0: without a KL penalty the policy drifts from π unchecked")
        if self.num_generations < 2:
            raise ValueError("num_generations must be >= 2 (the leave-one-out baseline needs a group)")
        unknown = set(self.rewards) - set(COMPONENTS)
        if unknown or not self.rewards:
            raise ValueError(f"rewards must weight some of {', '.join(COMPONENTS)}, got {self.rewards}")
        if self.kl_horizon is not None and self.kl_horizon < self.episodes_per_step:
            # 1 + error*n/horizon must stay >= 0.8 so beta stays positive
            raise ValueError(f"kl_horizon must be >= the episodes of one step ({self.episodes_per_step}), "
                             f"got {self.kl_horizon}")
        if self.eval_prompts < 2:
            raise ValueError("eval_prompts must be >= 2 (a standard error over prompts needs several)")
        if not 0 < self.vllm_gpu_memory_utilization < 1:
            raise ValueError("vllm_gpu_memory_utilization must be in (0, 1): training needs the rest of the GPU")
        if self.eval_samples < 2:
            raise ValueError("eval_samples must be >= 2 (a per-prompt mean needs several replies)")

    @property
    def episodes_per_step(self) -> int:
        return self.prompts_per_step * self.num_generations

    @property
    def horizon(self) -> int:
        """The controller horizon actually used (see ``kl_horizon``)."""
        if self.kl_horizon is not None:
            return self.kl_horizon
        return max(self.episodes_per_step, self.max_steps * self.episodes_per_step // 10)
