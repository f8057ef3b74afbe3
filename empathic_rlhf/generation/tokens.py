"""What every sampling backend shares about tokens: the prompt ids fed to the model (the chat template's rendering
with the generation prompt), the tokens that end a reply, and a drawn row decoded into one line of reply text.

A leaf of the package: the sampler (:mod:`.sampler`) and the vLLM backend (:mod:`.vllm_backend`) both import it, so
neither imports the other at load time.
"""

from __future__ import annotations

# Tokens that end a reply besides the tokenizer's EOS: the seed format's next-turn separator, ChatML's next turn.
EXTRA_STOP_TOKENS = ("<SOC>", "<|im_start|>", "<|endoftext|>")


def stop_tokens(tokenizer) -> list[str]:
    """Token strings that end a reply: the EOS token first, then the format's turn separators in the vocabulary."""
    vocab = tokenizer.get_vocab()
    tokens = [tokenizer.eos_token] + [t for t in EXTRA_STOP_TOKENS if t in vocab and t != tokenizer.eos_token]
    return [t for t in tokens if t is not None]


def render_prompts(tokenizer, contexts: list[list[dict]]) -> list[str]:
    """Each context rendered by the chat template, ending with the generation prompt."""
    return [tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            for messages in contexts]


def prompt_token_ids(tokenizer, contexts: list[list[dict]]) -> list[list[int]]:
    """The token ids every backend feeds the model: the rendered prompts, no special tokens added (the template
    already holds the format's own)."""
    return tokenizer(render_prompts(tokenizer, contexts), add_special_tokens=False)["input_ids"]


def decode_reply(tokenizer, ids: list[int], stop_ids: list[int]) -> tuple[str, int]:
    """(reply text up to the first stop token, tokens drawn including that stop token)."""
    stop = next((i for i, t in enumerate(ids) if t in stop_ids), None)
    return clean(tokenizer.decode(ids[:stop], skip_special_tokens=True)), len(ids) if stop is None else stop + 1


def clean(text: str) -> str:
    """One line of reply text: whitespace collapsed (an empty string when nothing was generated)."""
    return " ".join(text.split())
