"""Dialogue formats: how a conversation (system/user/assistant messages) becomes one token sequence.

Every stage sees one conversational form -- TRL's ``prompt``/``completion`` lists of ``{role, content}`` -- and
the tokenizer's chat template decides the text:

- ``chat-template``: the model's own template (instruct models such as SmolLM2-135M-Instruct).
- ``seed``: the seed's format for models with no template (GPT-2): ``turn <SOC> turn <SOC> reply <EOT>``, with
  the knowledge segment (situation/emotion) first as ``<knowledge> ... <SOC>``. ``<SOC>``, ``<EOT>`` and
  ``<knowledge>`` are added to the vocabulary as special tokens (and the embeddings resized).

Segments are told apart by these tokens in the sequence itself, not by TransferTransfo's token-type ids
(Wolf et al. 2019): TRL 1.16's text collators (SFT, DPO) pass no ``token_type_ids`` (only its vision collators
do), RLOO/GRPO give the reply's tokens type 0, and vLLM takes none, so a segment embedding could not be the same
in training, sampling, RL and scoring (docs/gpu.md, "Segment ids").

``<SOC>`` and ``<EOT>`` swallow the space before them (``lstrip``), so a prompt rendered with the generation
prompt (``... <SOC>``) tokenizes to an exact prefix of prompt + completion, as TRL's SFT and RL trainers need.
"""

from __future__ import annotations

from importlib import resources
from typing import Literal

SOC, EOT = "<SOC>", "<EOT>"
KNOWLEDGE = "<knowledge>"
SEED_SPECIAL_TOKENS = (SOC, EOT, KNOWLEDGE)

FormatName = Literal["auto", "seed", "chat-template"]


def seed_chat_template() -> str:
    """The Jinja chat template that renders the seed's format."""
    return resources.files(__package__).joinpath("templates/seed.jinja").read_text(encoding="utf-8")


def choose_format(tokenizer, requested: FormatName = "auto") -> str:
    """``auto`` keeps a model's own chat template and falls back to the seed format when it has none."""
    if requested != "auto":
        return requested
    return "chat-template" if getattr(tokenizer, "chat_template", None) else "seed"


def apply_format(tokenizer, model=None, requested: FormatName = "auto") -> str:
    """Give ``tokenizer`` (and ``model``'s embeddings) the chosen dialogue format; returns the format's name.

    Idempotent: a tokenizer that already carries the seed tokens is left as it is.
    """
    name = choose_format(tokenizer, requested)
    if name == "seed":
        add_seed_tokens(tokenizer)
        tokenizer.chat_template = seed_chat_template()
    if tokenizer.pad_token is None:
        # Pad with the model's own end-of-text token, never with <EOT>: padding is masked out of the loss and
        # the model must learn to emit <EOT>.
        tokenizer.pad_token = tokenizer.unk_token or tokenizer.bos_token or tokenizer.eos_token
    if model is not None:
        sync_model(model, tokenizer)
    return name


def add_seed_tokens(tokenizer) -> None:
    """Add the seed's separators and knowledge marker as special tokens; ``<EOT>`` becomes the EOS token."""
    from tokenizers import AddedToken

    missing = [t for t in SEED_SPECIAL_TOKENS if t not in tokenizer.get_vocab()]
    if missing:
        tokenizer.add_tokens(
            [AddedToken(t, lstrip=t in (SOC, EOT), rstrip=False, normalized=False, special=True) for t in missing],
            special_tokens=True,
        )
    if tokenizer.pad_token is None and tokenizer.eos_token is not None and tokenizer.eos_token != EOT:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.eos_token = EOT


def sync_model(model, tokenizer) -> None:
    """Resize embeddings to the tokenizer and point the model's EOS/PAD ids at the tokenizer's."""
    if model.get_input_embeddings().num_embeddings < len(tokenizer):
        import torch

        with torch.random.fork_rng(devices=[]):  # the new rows are drawn at random: the same ones at every load
            torch.manual_seed(0)
            model.resize_token_embeddings(len(tokenizer))
    for config in (model.config, getattr(model, "generation_config", None)):
        if config is not None:
            config.eos_token_id = tokenizer.eos_token_id
            config.pad_token_id = tokenizer.pad_token_id

