"""The reward model: a scalar head on π (``AutoModelForSequenceClassification``, one output) plus the gain and
bias that normalise its scores (Ziegler et al. 2019), stored beside the weights in ``normalization.json``.

One function renders (context, reply) into tokens -- :func:`reward_input_ids`, the chat template of
prompt + reply, with nothing appended -- and training, ``empathic reward score`` and the RL reward function all
go through it. That removes the pitfall where TRL's reward trainer appends EOS to plain-text pairs while its
online trainers score prompt + completion without it: the same (context, reply) always gets the same score.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

NORMALIZATION_FILE = "normalization.json"


def reward_input_ids(tokenizer, prompt: list[dict], reply: str) -> list[int]:
    """Token ids of ``prompt`` + the assistant ``reply``, as the chat template renders them (ending the reply)."""
    messages = [*prompt, {"role": "assistant", "content": reply}]
    return tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]


def distinct_pad_token(tokenizer) -> None:
    """Sequence-classification heads read the last non-pad token: padding must never equal a token the rendered
    text ends with (SmolLM2 pads with its end-of-turn token), so pick another special token for padding."""
    if tokenizer.pad_token_id is None or tokenizer.pad_token_id == tokenizer.eos_token_id:
        for candidate in (tokenizer.unk_token, tokenizer.bos_token, "<|endoftext|>"):
            if candidate and candidate != tokenizer.eos_token and candidate in tokenizer.get_vocab():
                tokenizer.pad_token = candidate
                return


def load_backbone(policy_dir: str):
    """A fresh scalar-head model initialised from π's weights (the head is new), and π's tokenizer."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from ..models.dialogue_format import apply_format
    from ..models.loading import resolve_model_path

    local = resolve_model_path(policy_dir)
    tokenizer = AutoTokenizer.from_pretrained(local)
    apply_format(tokenizer)  # π saved after SFT already has its format; a raw base model gets it here
    distinct_pad_token(tokenizer)
    model = AutoModelForSequenceClassification.from_pretrained(local, num_labels=1)
    if model.get_input_embeddings().num_embeddings < len(tokenizer):
        model.resize_token_embeddings(len(tokenizer))
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


@dataclass
class RewardModel:
    """A trained reward model: ``score(prompts, replies)`` gives normalised scores (raw with ``normalized=False``)."""

    model: object
    tokenizer: object
    gain: float = 1.0
    bias: float = 0.0

    @classmethod
    def load(cls, folder: str | Path) -> RewardModel:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        folder = Path(folder)
        model = AutoModelForSequenceClassification.from_pretrained(folder)
        model.eval()
        norm = json.loads((folder / NORMALIZATION_FILE).read_text()) if (folder / NORMALIZATION_FILE).is_file() else {}
        return cls(model, AutoTokenizer.from_pretrained(folder), norm.get("gain", 1.0), norm.get("bias", 0.0))

    def save(self, folder: str | Path, reference: dict | None = None) -> None:
        folder = Path(folder)
        self.model.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
        norm = {"gain": self.gain, "bias": self.bias, "reference": reference or {}}
        (folder / NORMALIZATION_FILE).write_text(json.dumps(norm, indent=2) + "\n")

    def raw_scores_of_ids(self, sequences: list[list[int]], batch_size: int = 16) -> list[float]:
        import torch

        scores: list[float] = []
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(sequences), batch_size):
            batch = sequences[start:start + batch_size]
            width = max(len(s) for s in batch)
            ids = torch.tensor([s + [pad] * (width - len(s)) for s in batch])
            mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in batch])
            with torch.no_grad():
                logits = self.model(input_ids=ids, attention_mask=mask).logits
            scores.extend(logits[:, 0].float().tolist())
        return scores

    def score(self, prompts: list[list[dict]], replies: list[str], *, normalized: bool = True,
              batch_size: int = 16) -> list[float]:
        sequences = [reward_input_ids(self.tokenizer, p, r) for p, r in zip(prompts, replies)]
        raw = self.raw_scores_of_ids(sequences, batch_size)
        return [self.gain * s + self.bias for s in raw] if normalized else raw

    def fit_normalization(self, prompts: list[list[dict]], replies: list[str]) -> dict:
        """Set gain and bias so these (π's samples on held-out contexts) score mean 0, standard deviation 1."""
        import statistics

        raw = self.score(prompts, replies, normalized=False)
        mean, std = statistics.fmean(raw), statistics.pstdev(raw) or 1.0
        self.gain, self.bias = 1.0 / std, -mean / std
        return {"n": len(raw), "raw_mean": mean, "raw_std": std}
