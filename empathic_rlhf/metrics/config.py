"""Config of the static utterance reward (the seed's hand-made reward)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class StaticRewardConfig:
    """``reward = Σ weight_term * term``, each term oriented so that higher is better (see ``static_reward.py``)."""

    sentiment_weight: float = field(default=0.15, metadata={
        "help": "Weight of the VADER compound sentiment of the reply, in [-1, 1] (more positive = better)."})
    question_weight: float = field(default=0.25, metadata={
        "help": "Weight of the question indicator: 1 if the reply has a question word and a '?', else 0."})
    repetition_weight: float = field(default=0.5, metadata={
        "help": "Weight of the non-repetition term -(words repeated from the conversation + duplicate words in "
                "the reply) / content words of the reply, in [-1, 0] (0 = nothing repeated = best)."})
    similarity_weight: float = field(default=0.05, metadata={
        "help": "Weight of the cosine similarity (all-MiniLM-L6-v2) to the previous utterance, in [-1, 1] "
                "(more on-topic = better). 0 skips loading the sentence encoder."})
    toxicity_weight: float = field(default=0.05, metadata={
        "help": "Weight of the non-toxicity term -P(offensive) from alt-profanity-check, in [-1, 0] "
                "(0 = clean = best)."})
    z_normalize: bool = field(default=False, metadata={
        "help": "Standardise each term to mean 0 / std 1 on a reference set before weighting (as the "
                "hierarchical-RL dialogue work did), so the weights compare terms of equal spread."})
    reference_file: str | None = field(default=None, metadata={
        "help": "JSONL of {history: [str], reply: str} used to fit the z-normalisation (needed with "
                "z_normalize unless stats are passed in code)."})

    def weights(self) -> dict[str, float]:
        """Weight per term name, in ``TERM_NAMES`` order."""
        return {"sentiment": self.sentiment_weight, "question": self.question_weight,
                "repetition": self.repetition_weight, "similarity": self.similarity_weight,
                "toxicity": self.toxicity_weight}
