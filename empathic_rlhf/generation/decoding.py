"""Our decoding loop on a transformers model (the ``torch`` backend): the sampling of ``model.generate``, faster.

Measured on the 2-core CPU (benchmarks/sampling.py, docs/sft.md), ``generate`` spends most of a sampling step
outside the model: a full sort of the vocabulary for top-p and ``multinomial`` over all 49k tokens take ~0.2 s of
a ~0.8 s step at batch 64, and with real contexts it keeps finished rows in the batch until the longest reply
ends, and prefills each context once per candidate. This loop does the same computation without that waste:

- the prompt is prefilled **once per context**, then its KV cache is repeated for the ``n`` candidates;
- rows that reached the end of their reply are **dropped from the batch** (their cache rows too);
- nucleus sampling looks at the **top 64 tokens first** and falls back to a full sort only for the rows whose
  nucleus is wider; the draw is made among the kept tokens only.

The distribution is the one ``generate`` samples from (repetition penalty, then temperature, then top-k, then
top-p, with end-of-reply tokens blocked before ``min_new_tokens``); greedy decoding gives the same tokens as
``generate`` (tested), sampled replies differ only by the random stream.
"""

from __future__ import annotations

from dataclasses import dataclass

# Top tokens looked at before falling back to a full sort; a 0.9 nucleus at temperature 0.7 nearly always fits.
NUCLEUS_PROBE = 64


@dataclass
class DecodingParams:
    """The sampling knobs of :class:`~empathic_rlhf.generation.config.SamplingConfig` that the loop needs."""

    max_new_tokens: int
    min_new_tokens: int = 0
    temperature: float = 1.0  # 0: greedy
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0


def decode(model, input_ids, attention_mask, n: int, params: DecodingParams, stop_ids: list[int],
           seed: int) -> list[list[int]]:
    """New token ids (up to and including the stop token, when one came) of ``n`` replies per left-padded prompt.

    Rows are returned context-major: the ``n`` replies of prompt 0, then those of prompt 1, ...
    """
    return _decode(model, input_ids, attention_mask, n, params, stop_ids, seed, scored=False)[0]


def decode_scored(model, input_ids, attention_mask, n: int, params: DecodingParams, stop_ids: list[int],
                  seed: int) -> tuple[list[list[int]], list[float]]:
    """:func:`decode`, plus each reply's log-probability under the model itself (the raw logits, before any
    penalty, temperature or filtering: what a KL to another model needs), from the logits the loop computed anyway.
    RL's held-out checks sample with it (rl/heldout.py)."""
    return _decode(model, input_ids, attention_mask, n, params, stop_ids, seed, scored=True)


def _decode(model, input_ids, attention_mask, n: int, params: DecodingParams, stop_ids: list[int], seed: int,
            scored: bool) -> tuple[list[list[int]], list[float]]:
    import torch
    from transformers import DynamicCache

    generator = torch.Generator(device=input_ids.device).manual_seed(seed)
    stop = torch.tensor(stop_ids, device=input_ids.device)
    cache = DynamicCache()
    positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)  # left padding: real tokens start at 0
    logits = _forward(model, input_ids, attention_mask, positions, cache)
    if n > 1:  # the candidates share the prompt's cache: prefill once, then copy
        cache.batch_repeat_interleave(n)
        logits, attention_mask, positions, input_ids = (t.repeat_interleave(n, dim=0) for t in
                                                        (logits, attention_mask, positions, input_ids))
    rows = logits.shape[0]
    replies: list[list[int]] = [[] for _ in range(rows)]
    logprobs = torch.zeros(rows)
    active = torch.arange(rows, device=input_ids.device)  # which reply each batch row belongs to
    seen = input_ids  # tokens the repetition penalty looks at (prompt, padding included as generate does)
    last_position = positions[:, -1:]
    for step in range(params.max_new_tokens):
        own = logits.log_softmax(dim=-1) if scored else None  # before _next_tokens edits the logits in place
        tokens = _next_tokens(logits, seen, step, params, stop, generator)
        if scored:
            logprobs.index_add_(0, active.cpu(), own.gather(1, tokens[:, None]).squeeze(1).cpu())
        for row, token in zip(active.tolist(), tokens.tolist()):
            replies[row].append(token)
        finished = torch.isin(tokens, stop)
        if step + 1 == params.max_new_tokens or bool(finished.all()):
            break
        if bool(finished.any()):  # drop the finished rows (and their cache) from the batch
            keep = torch.nonzero(~finished).squeeze(1)
            cache.batch_select_indices(keep)
            active, tokens, attention_mask, last_position, seen = (
                t[keep] for t in (active, tokens, attention_mask, last_position, seen))
        seen = torch.cat([seen, tokens[:, None]], dim=1) if params.repetition_penalty != 1.0 else seen
        attention_mask = torch.cat([attention_mask, attention_mask.new_ones(len(active), 1)], dim=1)
        last_position = last_position + 1
        logits = _forward(model, tokens[:, None], attention_mask, last_position, cache)
    return replies, logprobs.tolist()


def _forward(model, input_ids, attention_mask, position_ids, cache):
    """Logits of the last position only (float32), extending ``cache`` in place."""
    out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, cache=cache,
                use_cache=True, logits_to_keep=1)
    return out.logits[:, -1, :].float()


def _next_tokens(logits, seen, step: int, params: DecodingParams, stop, generator):
    """One token per row, drawn as ``generate`` would (see the module docstring for the order)."""
    import torch

    if params.repetition_penalty != 1.0:  # CTRL's penalty, as transformers applies it
        scores = logits.gather(1, seen)
        scores = torch.where(scores < 0, scores * params.repetition_penalty, scores / params.repetition_penalty)
        logits = logits.scatter(1, seen, scores)
    if step < params.min_new_tokens:
        logits[:, stop] = float("-inf")
    if params.temperature == 0:
        return logits.argmax(dim=-1)
    logits = logits / params.temperature
    if not params.top_k and params.top_p >= 1.0:  # plain sampling over the whole vocabulary
        return torch.multinomial(logits.softmax(dim=-1), 1, generator=generator).squeeze(1)
    if params.top_k:
        values, indices = logits.topk(min(params.top_k, logits.shape[-1]), dim=-1)
        probs = values.softmax(dim=-1)  # top-p then works on the renormalised top-k, as in generate
    else:
        probs, indices = logits.softmax(dim=-1).topk(min(NUCLEUS_PROBE, logits.shape[-1]), dim=-1)
    probs = _nucleus(probs, params.top_p)
    if not params.top_k and probs.shape[-1] < logits.shape[-1]:
        wide = (probs > 0).all(dim=-1)  # the whole probe is in the nucleus: it may reach further
        if bool(wide.any()):
            return _with_full_sort(logits, probs, indices, wide, params.top_p, generator)
    return indices.gather(1, torch.multinomial(probs, 1, generator=generator)).squeeze(1)


def _nucleus(sorted_probs, top_p: float):
    """Zero the tokens outside the nucleus of descending ``sorted_probs``: a token stays while the mass before it
    is below top_p (the first one always stays) -- the rule of transformers' ``TopPLogitsWarper``."""
    if top_p >= 1.0:
        return sorted_probs
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs
    kept = mass_before < top_p
    kept[:, 0] = True
    return sorted_probs * kept


def _with_full_sort(logits, probs, indices, wide, top_p: float, generator):
    """Draw as usual, except for the ``wide`` rows (nucleus wider than the probe): sort their whole vocabulary."""
    import torch

    tokens = indices.gather(1, torch.multinomial(probs, 1, generator=generator)).squeeze(1)
    full, full_indices = logits[wide].softmax(dim=-1).sort(dim=-1, descending=True)
    drawn = torch.multinomial(_nucleus(full, top_p), 1, generator=generator)
    tokens[wide] = full_indices.gather(1, drawn).squeeze(1)
    return tokens
