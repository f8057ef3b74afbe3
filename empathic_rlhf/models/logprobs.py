"""Log-probabilities of replies under a causal LM: the one implementation behind RL's held-out KL
(rl/heldout.py), DPO's held-out margins (dpo/train.py) and evaluate's perplexity (evaluate/reply_metrics.py).

- :func:`reply_token_ids`: prompt + reply rendered by the chat template, and where the reply starts: checked, not
  assumed -- the prompt rendered with the generation prompt is a prefix of prompt + reply for the shipped
  templates; for one that re-renders the prompt the reply starts after the longest common prefix (a blind cut at
  the prompt's length would drop reply tokens or count prompt tokens).
- :func:`reply_logprobs`: per (prompt, reply), the summed log-probability of the reply's tokens and their number,
  rows of similar length batched together.
- :func:`shared_prompt_logprobs`: the same for many replies to one prompt, the prompt's keys and values computed
  once and shared by every reply (the battery scores ~45 replies per conversation: ~4x fewer tokens through the
  model than :func:`reply_logprobs` on the same rows, same numbers to float precision).
- :func:`sequence_logprobs`: the same sum over already tokenized rows (left- or right-padded), ``rows`` rows per
  forward pass so that memory does not grow with the number of replies.
"""

from __future__ import annotations

LOGPROB_ROWS = 16  # rows per forward pass: the full-vocabulary logits of 256 rows took ~20 GB and an OOM kill


def position_ids_for(attention_mask):
    """Positions counted over real tokens only: a left-padded row starts at 0 at its first real token, as when
    the row is fed alone. Absolute-position models (GPT-2) need this; ``generate`` does the same internally."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def sequence_logprobs(model, input_ids, attention_mask, completion_mask, rows: int = LOGPROB_ROWS):
    """Sum of log-probabilities of the tokens ``completion_mask`` marks in each row (rows may be padded on either
    side), ``rows`` rows at a time. Returns a float tensor of one sum per row."""
    import torch

    sums = []
    position_ids = position_ids_for(attention_mask)
    for start in range(0, input_ids.shape[0], rows):
        part = slice(start, start + rows)
        ids, marked = input_ids[part], completion_mask[part].to(input_ids.device)
        # logits only from the position before the chunk's first reply token on: the vocabulary projection and
        # softmax over prompt positions are wasted work (a quarter of a forward pass of a 135M model on a CPU)
        first = int(marked.any(0).long().argmax()) if bool(marked.any()) else ids.shape[1] - 1
        keep = ids.shape[1] - max(first - 1, 0)
        with torch.no_grad():
            logits = _forward_logits(model, ids, attention_mask[part], position_ids[part], keep)[:, :-1].float()
            targets = ids[:, ids.shape[1] - keep + 1:]  # token t is predicted from position t - 1
            chosen = logits.gather(-1, targets[..., None]).squeeze(-1) - torch.logsumexp(logits, dim=-1)
        sums.append((chosen * marked[:, ids.shape[1] - keep + 1:].to(chosen.device)).sum(-1))
        del logits
    return torch.cat(sums)


def _forward_logits(model, input_ids, attention_mask, position_ids, keep: int):
    """The logits of the last ``keep`` positions (``logits_to_keep``, which transformers' causal LMs accept); all
    positions, cut here, for a model whose forward does not take it."""
    try:
        return model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                     logits_to_keep=keep).logits
    except TypeError:
        return model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids).logits[:, -keep:]


def reply_token_ids(tokenizer, prompt: list[dict], completion: list[dict]) -> tuple[list[int], int]:
    """Token ids of prompt + reply and the number of prompt tokens (the reply is the rest)."""
    prompt_ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True, return_dict=True)
    full_ids = tokenizer.apply_chat_template(prompt + completion, tokenize=True, return_dict=True)
    prompt_ids, full_ids = prompt_ids["input_ids"], full_ids["input_ids"]
    if full_ids[:len(prompt_ids)] != prompt_ids:  # a template that re-renders the prompt: the common prefix
        return full_ids, _common_prefix(prompt_ids, full_ids)
    return full_ids, len(prompt_ids)


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def reply_logprobs(model, tokenizer, prompts: list[list[dict]], replies: list[str], batch_size: int = LOGPROB_ROWS,
                   progress: bool = False, desc: str = "log-probabilities") -> tuple[list[float], list[int]]:
    """Per (prompt, reply): log p(reply | prompt) under ``model`` (summed over the reply's tokens as the chat template
    renders them, its end-of-turn token included) and the number of those tokens. ``batch_size`` rows per forward
    pass, rows of similar length together (less padding)."""
    import torch
    from tqdm import tqdm

    rows = [reply_token_ids(tokenizer, prompt, [{"role": "assistant", "content": reply}])
            for prompt, reply in zip(prompts, replies)]
    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))
    sums, counts = [0.0] * len(rows), [0] * len(rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = getattr(model, "device", "cpu")
    for start in tqdm(range(0, len(order), batch_size), desc=desc, unit="batch", disable=not progress):
        chunk = order[start:start + batch_size]
        width = max(len(rows[i][0]) for i in chunk)
        input_ids = torch.full((len(chunk), width), pad, dtype=torch.long)
        attention = torch.zeros((len(chunk), width), dtype=torch.long)
        reply = torch.zeros((len(chunk), width), dtype=torch.long)
        for r, i in enumerate(chunk):  # right padding
            ids, n_prompt = rows[i]
            input_ids[r, :len(ids)] = torch.tensor(ids)
            attention[r, :len(ids)] = 1
            reply[r, n_prompt:len(ids)] = 1
        logps = sequence_logprobs(model, input_ids.to(device), attention.to(device), reply, rows=len(chunk))
        for r, i in enumerate(chunk):
            sums[i], counts[i] = float(logps[r]), int(reply[r, 1:].sum())
    return sums, counts


def shared_prompt_logprobs(model, tokenizer, prompt: list[dict], replies: list[str], *, role: str = "assistant",
                           rows: int = LOGPROB_ROWS) -> tuple[list[float], list[int]]:
    """Per reply to the one ``prompt``: log p(reply | prompt) summed over the reply's tokens (end of turn included)
    and their number, as :func:`reply_logprobs` gives them; ``role``: whose turn the reply is."""
    import copy

    import torch

    if not replies:
        return [], []
    encoded = [reply_token_ids(tokenizer, prompt, [{"role": role, "content": reply}]) for reply in replies]
    shared = min(n_prompt for _, n_prompt in encoded)
    for ids, _ in encoded[1:]:
        shared = min(shared, _common_prefix(ids, encoded[0][0]))
    # the last shared token goes with every row: its logits predict the first reply token
    cut = max(shared - 1, 0)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = getattr(model, "device", "cpu")
    sums, counts = [0.0] * len(replies), [0] * len(replies)
    order = sorted(range(len(replies)), key=lambda i: len(encoded[i][0]))
    with torch.no_grad():
        prefix = None
        if cut:
            out = model(input_ids=torch.tensor([encoded[0][0][:cut]], device=device), use_cache=True)
            prefix = out.cache
        for start in range(0, len(order), rows):
            chunk = order[start:start + rows]
            width = max(len(encoded[i][0]) for i in chunk) - cut
            ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), cut + width), dtype=torch.long)
            mask[:, :cut] = 1
            for r, i in enumerate(chunk):  # right padding
                tail = encoded[i][0][cut:]
                ids[r, :len(tail)] = torch.tensor(tail)
                mask[r, cut:cut + len(tail)] = 1
            extra = {}
            if prefix is not None:
                cache = copy.deepcopy(prefix)  # the forward pass appends to it
                cache.batch_repeat_interleave(len(chunk))
                extra["cache"] = cache
            positions = torch.arange(cut, cut + width).unsqueeze(0).expand(len(chunk), -1)
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device),
                           position_ids=positions.to(device), **extra).logits[:, :-1].float()
            chosen = logits.gather(-1, ids[:, 1:, None].to(device)).squeeze(-1) - torch.logsumexp(logits, dim=-1)
            for r, i in enumerate(chunk):
                full, n_prompt = encoded[i]
                first, last = n_prompt - cut - 1, len(full) - cut - 1  # chosen[:, j] scores token cut + j + 1
                sums[i], counts[i] = float(chosen[r, first:last].sum()), last - first
            del logits
    return sums, counts
