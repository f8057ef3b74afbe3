"""Our decoding loop (the ``torch`` backend) against transformers' ``generate``: the same greedy tokens, with rows
stopping at different steps, and the same sampling distribution (temperature, top-k, top-p)."""

import pytest
import torch

from empathic_rlhf.generation.decoding import (
    NUCLEUS_PROBE,
    DecodingParams,
    _next_tokens,
    decode,
)

PROMPTS = ["Hello, how are", "I lost my dog last week and I really miss him so much, it is", "Great news!"]


@pytest.fixture(scope="module")
def tiny(tiny_gpt2_dir):
    from empathic_rlhf.models.loading import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(str(tiny_gpt2_dir))
    return model.eval(), tokenizer


def left_padded(tokenizer, texts):
    tokenizer.padding_side = "left"
    return tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)


def generate_ids(model, tokenizer, batch, n, stop_ids, **kwargs):
    """Greedy replies of generate, each repeated n times (greedy generate refuses num_return_sequences > 1)."""
    with torch.inference_mode():
        out = model.generate(**batch, do_sample=False, eos_token_id=stop_ids,
                             pad_token_id=tokenizer.pad_token_id, **kwargs)
    rows = out[:, batch["input_ids"].shape[1]:].tolist()
    # generate pads finished rows to the longest one; cut them after their stop token as our loop does
    return [row[:next((i + 1 for i, t in enumerate(row) if t in stop_ids), len(row))] for row in rows
            for _ in range(n)]


@pytest.mark.parametrize("penalty", [1.0, 1.3])
def test_greedy_tokens_equal_generate_while_rows_stop_at_different_steps(tiny, penalty):
    model, tokenizer = tiny
    batch = left_padded(tokenizer, PROMPTS)
    free = decode(model, batch["input_ids"], batch["attention_mask"], 2,
                  DecodingParams(max_new_tokens=10, temperature=0, repetition_penalty=penalty), [-1], seed=0)
    stop_ids = [free[0][0]]  # the first prompt's first token: its rows stop at once, the others go on
    params = DecodingParams(max_new_tokens=10, temperature=0, repetition_penalty=penalty)
    with torch.inference_mode():
        ours = decode(model, batch["input_ids"], batch["attention_mask"], 2, params, stop_ids, seed=0)
    reference = generate_ids(model, tokenizer, batch, 2, stop_ids, max_new_tokens=10, repetition_penalty=penalty)
    assert ours == reference
    assert len(ours[0]) == len(ours[1]) == 1 and max(len(row) for row in ours) == 10  # rows left the batch early


def test_min_new_tokens_blocks_the_stop_tokens(tiny):
    model, tokenizer = tiny
    batch = left_padded(tokenizer, PROMPTS[:1])
    free = decode(model, batch["input_ids"], batch["attention_mask"], 1, DecodingParams(6, temperature=0), [-1], 0)
    stop = [free[0][0]]  # greedy would stop at once
    assert len(decode(model, batch["input_ids"], batch["attention_mask"], 1,
                      DecodingParams(6, min_new_tokens=0, temperature=0), stop, 0)[0]) == 1
    blocked = decode(model, batch["input_ids"], batch["attention_mask"], 1,
                     DecodingParams(6, min_new_tokens=4, temperature=0), stop, 0)[0]
    assert len(blocked) >= 4 and stop[0] not in blocked[:4]


def expected_distribution(logits, temperature, top_k, top_p):
    """The distribution generate samples from, built with transformers' own logits warpers."""
    from transformers.generation.logits_process import (
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    scores = TemperatureLogitsWarper(temperature)(None, logits.clone())
    if top_k:
        scores = TopKLogitsWarper(top_k)(None, scores)
    return TopPLogitsWarper(top_p)(None, scores).softmax(dim=-1)


@pytest.mark.parametrize("top_k", [0, 20])
def test_sampled_tokens_follow_generates_distribution_narrow_and_wide_nucleus(top_k):
    from scipy.stats import chisquare

    vocab = 500
    narrow = torch.linspace(8, -8, vocab)  # the 0.9 nucleus holds a few tokens: found in the probe
    wide = 0.1 * torch.randn(vocab, generator=torch.Generator().manual_seed(0))  # nearly flat (no ties: they
    # would make the nucleus ambiguous): wider than the probe -> full sort
    assert (expected_distribution(wide[None], 0.7, 0, 0.9) > 0).sum() > NUCLEUS_PROBE
    draws = 20000
    logits = torch.stack([narrow] * draws + [wide] * draws)
    tokens = _next_tokens(logits.clone(), logits[:, :1].long(), 5, DecodingParams(1, temperature=0.7, top_k=top_k,
                                                                                   top_p=0.9),
                          torch.tensor([-1]), torch.Generator().manual_seed(0))
    for row, part in ((narrow, tokens[:draws]), (wide, tokens[draws:])):
        expected = expected_distribution(row[None], 0.7, top_k, 0.9)[0]
        counts = torch.bincount(part, minlength=vocab).double()
        support = expected > 0
        assert counts[~support].sum() == 0  # never a token outside the nucleus
        expected_counts = expected[support].double() / expected[support].double().sum() * draws
        fit = chisquare(counts[support].numpy(), expected_counts.numpy())
        assert fit.pvalue > 0.001, fit  # the counts are a plausible draw from generate's distribution


def test_same_seed_same_draws(tiny):
    model, tokenizer = tiny
    batch = left_padded(tokenizer, PROMPTS)
    params = DecodingParams(8, temperature=0.7, top_p=0.9)
    first = decode(model, batch["input_ids"], batch["attention_mask"], 3, params, [-1], seed=5)
    assert first == decode(model, batch["input_ids"], batch["attention_mask"], 3, params, [-1], seed=5)
    assert first != decode(model, batch["input_ids"], batch["attention_mask"], 3, params, [-1], seed=6)
