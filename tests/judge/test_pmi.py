"""Context PMI (judge/pmi.py): the per-token difference of log p(reply | conversation) and log p(reply | an empty
turn), as the plain log-probability function computes them; through the scorer registry as ``pmi:<lm dir>``."""

import numpy as np
import pytest

from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.judge.pmi import ALONE, ContextPMI
from empathic_rlhf.models.logprobs import reply_logprobs
from empathic_rlhf.scorers import column_scorer

PROMPTS = [[{"role": "user", "content": "My dog died last week."}],
           [{"role": "user", "content": "I got the job!"}, {"role": "assistant", "content": "Congratulations!"},
            {"role": "user", "content": "Thanks, I start on Monday."}]]


def test_context_pmi_is_the_per_token_log_ratio_with_and_without_the_conversation(tiny_gpt2_dir):
    pmi = ContextPMI(tiny_gpt2_dir, rows=2)
    prompts = [PROMPTS[0], PROMPTS[1], PROMPTS[0], PROMPTS[1], PROMPTS[0]]
    replies = ["I am so sorry.", "I am so sorry.", "What was his name?", "You will do great!", ""]
    scores = pmi(prompts, replies)
    together, tokens = reply_logprobs(pmi.model, pmi.tokenizer, prompts, replies)
    alone, _ = reply_logprobs(pmi.model, pmi.tokenizer, [list(ALONE)] * len(replies), replies)
    expected = (np.array(together) - np.array(alone)) / np.array(tokens)
    assert scores == pytest.approx(expected, abs=1e-4)
    assert scores[0] != pytest.approx(scores[1], abs=1e-6)  # one reply, two conversations: two scores
    assert sorted(pmi._alone) == sorted(set(replies))  # each distinct reply scored alone once


def test_the_registry_names_it_pmi_with_an_lm_folder(tiny_gpt2_dir):
    score = column_scorer(f"pmi:{tiny_gpt2_dir}")
    assert score(PROMPTS, ["Oh no.", "Great news!"]).shape == (2,)
    with pytest.raises(EmpathicError, match="needs a trained model"):
        column_scorer("pmi")


def test_an_lm_trained_on_planted_conversations_ranks_the_own_reply_over_stock_over_another_conversations(tmp_path):
    """Trained on planted data where every conversation is answered by its own reply or by one stock reply
    (half each), and an empty turn by any of them at their overall frequency: the own reply gains ~log(n) nats over
    the empty turn, the stock reply ~0, another conversation's reply loses."""
    import torch

    from empathic_rlhf.models.embedded import build_tiny_gpt2
    from empathic_rlhf.models.loading import load_model_and_tokenizer
    from empathic_rlhf.models.logprobs import reply_token_ids

    # the small local BPE (a folder without GPT-2's files): a thing is a few small tokens, which 150 steps of a
    # 2-layer model learn to copy; with GPT-2's 50k-token vocabulary they do not, in twice the time
    lm_dir = build_tiny_gpt2(tmp_path / "tiny", tmp_path / "no-gpt2-files")

    things = ["dog", "bicycle", "garden", "violin", "passport", "kitten"]
    prompts = [[{"role": "user", "content": f"I lost my {t} last week."}] for t in things]
    golds = [f"Oh no, your {t}! Where did you see it last?" for t in things]
    stock = "That is interesting."
    rows = [(p, r) for p, g in zip(prompts, golds) for r in (g, stock)]
    rows += [(list(ALONE), r) for _, r in rows]
    model, tokenizer = load_model_and_tokenizer(str(lm_dir))
    encoded = [reply_token_ids(tokenizer, p, [{"role": "assistant", "content": r}]) for p, r in rows]
    width = max(len(ids) for ids, _ in encoded)
    input_ids = torch.full((len(rows), width), tokenizer.pad_token_id or 0)
    labels = torch.full((len(rows), width), -100)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (ids, n_prompt) in enumerate(encoded):
        input_ids[i, :len(ids)], mask[i, :len(ids)] = torch.tensor(ids), 1
        labels[i, n_prompt:len(ids)] = torch.tensor(ids[n_prompt:])
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(150):
        optimizer.zero_grad()
        model(input_ids=input_ids, attention_mask=mask, labels=labels).loss.backward()
        optimizer.step()
    model.save_pretrained(tmp_path / "lm")
    tokenizer.save_pretrained(tmp_path / "lm")

    pmi = ContextPMI(tmp_path / "lm")
    own = pmi(prompts, golds)
    generic = pmi(prompts, [stock] * len(prompts))
    others = pmi(prompts, golds[1:] + golds[:1])
    # per token: the thing's few tokens carry ~log(6) nats over a reply of ~25 tokens
    assert (own > generic + 0.03).all() and (generic > others + 0.1).all()
    assert abs(generic).max() < 0.03 < own.min()
