"""Context PMI: how much more likely a reply becomes once a causal LM tuned on ED replies has read *this*
conversation, per token::

    context_pmi = (log p(reply | conversation) - log p(reply | an empty turn)) / reply tokens

(pointwise mutual information between reply and conversation, the anti-generic criterion of Li et al. 2016,
"A Diversity-Promoting Objective Function for Neural Conversation Models"). A stock reply ("I'm so sorry to hear
that.") is as likely without the conversation as with it, so it scores near zero; a reply that takes up what the
person said scores above. Per token, so that a stock question appended to a good reply dilutes it instead of
adding a free term. What it rewards blindly: copying the conversation (the speaker's words turned back are very
likely after the conversation and unlikely without it), which the fit model of the judge is trained against.

The LM is any causal LM folder whose chat template renders the conversation as it was trained (an SFT run's
``sft/model``); it should not be the policy under evaluation or its starting point, or the score favours what
that model would say. Scored rows that share a conversation share its keys and values
(``models.logprobs.shared_prompt_logprobs``); the reply alone is scored once per distinct reply.
"""

from __future__ import annotations

import os

import numpy as np

ALONE = ({"role": "user", "content": ""},)  # "no conversation": an empty turn, so the reply is still a reply


class ContextPMI:
    """``ContextPMI(lm_dir)(prompts, replies) -> np.ndarray``: per-token PMI of each reply with its prompt
    (chat messages as π saw them); an LM is loaded once."""

    def __init__(self, lm_dir: str | os.PathLike, rows: int = 32):
        from ..models.loading import load_model_and_tokenizer

        self.model, self.tokenizer = load_model_and_tokenizer(str(lm_dir))
        self.model.eval()
        self.rows = rows
        self._alone: dict[str, float] = {}  # reply -> log p(reply | an empty turn): stock replies recur

    def __call__(self, prompts: list[list[dict]], replies: list[str], progress: bool = False) -> np.ndarray:
        from tqdm import tqdm

        from ..models.logprobs import shared_prompt_logprobs

        groups: dict[str, list[int]] = {}
        for i, prompt in enumerate(prompts):
            groups.setdefault(_key(prompt), []).append(i)
        together, tokens = np.zeros(len(replies)), np.ones(len(replies))
        for rows in tqdm(groups.values(), desc="context PMI", unit="conversation", disable=not progress):
            sums, counts = shared_prompt_logprobs(self.model, self.tokenizer, list(prompts[rows[0]]),
                                                  [replies[i] for i in rows], rows=self.rows)
            together[rows], tokens[rows] = sums, counts
        alone = self.alone(replies)
        return (together - alone) / np.maximum(tokens, 1)

    def alone(self, replies: list[str]) -> np.ndarray:
        """log p(reply | an empty turn), remembered per distinct reply."""
        from ..models.logprobs import shared_prompt_logprobs

        new = sorted({r for r in replies if r not in self._alone})
        sums, _ = shared_prompt_logprobs(self.model, self.tokenizer, list(ALONE), new, rows=self.rows)
        self._alone.update(zip(new, sums))
        return np.array([self._alone[r] for r in replies], dtype=np.float64)


def _key(prompt: list[dict]) -> str:
    return "\x1e".join(f"{m['role']}\x1f{m['content']}" for m in prompt)
