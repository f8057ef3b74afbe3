"""One reply to one conversation: a thin wrapper over the sampler, shared by ``model fetch`` and tests.

All generation goes through :class:`empathic_rlhf.sample.sampler.Sampler` (batched, stops at the end of the
reply); this keeps the old single-context signature.
"""

from __future__ import annotations


def generate_reply(model, tokenizer, messages: list[dict], *, max_new_tokens: int = 40, do_sample: bool = True,
                   seed: int | None = None, **sampling) -> str:
    """Render ``messages`` with the chat template (plus generation prompt), generate, return the reply text.

    ``do_sample=False`` decodes greedily; other keywords are :class:`~empathic_rlhf.sample.config.SamplingConfig`
    fields (temperature, top_p, top_k, min_new_tokens, repetition_penalty).
    """
    from ..sample.config import SamplingConfig
    from ..sample.sampler import Sampler, TransformersBackend

    if not do_sample:
        sampling["temperature"] = 0.0
    params = SamplingConfig(max_new_tokens=max_new_tokens, min_new_tokens=min(1, max_new_tokens), **sampling)
    return Sampler(TransformersBackend(model, tokenizer), params).reply(messages, seed=seed)
