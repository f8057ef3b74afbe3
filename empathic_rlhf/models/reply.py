"""One reply to one conversation: the smallest generation helper, shared by ``model fetch`` and tests.

Batched candidate sampling for many contexts is the sample stage's job; this is for a single context.
"""

from __future__ import annotations


def generate_reply(model, tokenizer, messages: list[dict], *, max_new_tokens: int = 40, **generate_kwargs) -> str:
    """Render ``messages`` with the chat template (plus generation prompt), generate, return the reply text."""
    import torch

    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                                eos_token_id=tokenizer.eos_token_id, **generate_kwargs)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()
