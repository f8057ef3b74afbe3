"""Automatic metrics of replies: perplexity of gold replies under a model, BLEU, distinct-n, average length.

- perplexity: exp(total NLL of the reply tokens / number of reply tokens), the prompt masked out exactly as TRL's
  SFT masks it (the prompt rendered with the generation prompt is a prefix of prompt + reply), so the number is
  comparable with ``sft``'s validation perplexity. Different tokenizers give different perplexities: compare
  models that share one.
- BLEU: sacrebleu's corpus BLEU (13a tokenisation), one reference per reply.
- distinct-n (Li et al. 2016): distinct n-grams / all n-grams over all generated replies (corpus level).
- length: mean number of words (the same word tokenisation as distinct-n).
"""

from __future__ import annotations

import math
import re

WORD = re.compile(r"\w+|[^\w\s]")


def words(text: str) -> list[str]:
    """Lower-cased words and punctuation marks: ``"I'm fine!"`` -> ``["i", "'", "m", "fine", "!"]``."""
    return WORD.findall(text.lower())


def distinct_n(texts: list[str], n: int) -> float:
    """Distinct n-grams over all n-grams in ``texts`` (0.0 when there are none)."""
    grams = [tuple(ws[i:i + n]) for ws in map(words, texts) for i in range(len(ws) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def average_length(texts: list[str]) -> float:
    return sum(len(words(t)) for t in texts) / len(texts) if texts else 0.0


def bleu(hypotheses: list[str], references: list[str]) -> float:
    """Corpus BLEU (sacrebleu, 0-100) of ``hypotheses`` against one reference each."""
    import sacrebleu

    return sacrebleu.corpus_bleu(hypotheses, [references]).score


def reply_token_ids(tokenizer, prompt: list[dict], completion: list[dict]) -> tuple[list[int], int]:
    """Token ids of prompt + reply and the number of prompt tokens (the reply is the rest)."""
    prompt_ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True, return_dict=True)
    full_ids = tokenizer.apply_chat_template(prompt + completion, tokenize=True, return_dict=True)
    prompt_ids, full_ids = prompt_ids["input_ids"], full_ids["input_ids"]
    if full_ids[:len(prompt_ids)] != prompt_ids:  # a template that re-renders the prompt: fall back to the length
        return full_ids, _common_prefix(prompt_ids, full_ids)
    return full_ids, len(prompt_ids)


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def reply_nll(model, tokenizer, samples: list[dict], batch_size: int = 16, progress: bool = False) -> tuple[float, int]:
    """Total negative log-likelihood (nats) of the reply tokens of ``samples`` and their count."""
    import torch
    from tqdm import tqdm

    rows = [reply_token_ids(tokenizer, s["prompt"], s["completion"]) for s in samples]
    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))  # similar lengths together: less padding
    total, count = 0.0, 0
    model.eval()
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    batches = range(0, len(order), batch_size)
    for start in tqdm(batches, desc="perplexity", unit="batch", disable=not progress):
        chunk = [rows[i] for i in order[start:start + batch_size]]
        width = max(len(ids) for ids, _ in chunk)
        input_ids = torch.full((len(chunk), width), pad, dtype=torch.long)
        attention = torch.zeros((len(chunk), width), dtype=torch.long)
        labels = torch.full((len(chunk), width), -100, dtype=torch.long)
        for r, (ids, n_prompt) in enumerate(chunk):  # right padding: positions start at 0 for every row
            input_ids[r, :len(ids)] = torch.tensor(ids)
            attention[r, :len(ids)] = 1
            labels[r, n_prompt:len(ids)] = torch.tensor(ids[n_prompt:])
        with torch.inference_mode():
            logits = model(input_ids=input_ids.to(model.device),
                           attention_mask=attention.to(model.device)).logits.float()
        # token t is predicted from position t-1
        targets = labels[:, 1:].to(logits.device)
        nll = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                                ignore_index=-100, reduction="sum")
        total += nll.item()
        count += int((targets != -100).sum())
    return total, count


def perplexity(model, tokenizer, samples: list[dict], batch_size: int = 16, progress: bool = False) -> float:
    """exp(mean NLL per reply token) of the gold replies of ``samples``."""
    total, count = reply_nll(model, tokenizer, samples, batch_size, progress)
    return math.exp(total / count) if count else float("nan")
