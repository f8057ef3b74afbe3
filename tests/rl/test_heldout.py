"""Held-out checks: correct log-probabilities of left-padded rows (absolute positions), a fixed seed and several
replies per prompt, and the paired selection rule."""

import math

import pytest

from empathic_rlhf.rl.heldout import (evaluate_heldout, is_better, mean_and_se, paired_difference,
                                      reference_perplexity, sample_rollouts, sequence_logprobs)
from empathic_rlhf.rl.rewards import named, reply_text

PROMPTS = [[{"role": "user", "content": "My dog died last week."}], [{"role": "user", "content": "I got the job!"}],
           [{"role": "user", "content": "We are moving abroad next month, and I am scared of it."}]]


@pytest.fixture(scope="module")
def policy(tiny_gpt2_dir):
    from empathic_rlhf.models.loading import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(str(tiny_gpt2_dir))
    return model.eval(), tokenizer


def test_left_padded_logprobs_equal_unpadded_ones_on_gpt2(policy):
    import torch

    model, _ = policy
    short, long = [5, 17, 42, 8, 99, 3], [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
    pad = 0
    width = len(long)
    ids = torch.tensor([[pad] * (width - len(short)) + short, long])
    attention = torch.tensor([[0] * (width - len(short)) + [1] * len(short), [1] * width])
    completion = torch.zeros_like(ids)
    completion[:, -3:] = 1  # the last three tokens of each row are the "reply"
    batched = sequence_logprobs(model, ids, attention, completion)
    alone = [sequence_logprobs(model, torch.tensor([row]), torch.ones(1, len(row), dtype=torch.long),
                               torch.tensor([[0] * (len(row) - 3) + [1] * 3]))[0] for row in (short, long)]
    assert batched.tolist() == pytest.approx([a.item() for a in alone], abs=1e-4)
    # what the positions fix: without them GPT-2 puts the padded row's tokens at the wrong absolute positions
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=attention).logits[:, :-1].float()
    naive = (torch.log_softmax(logits, -1).gather(-1, ids[:, 1:, None]).squeeze(-1) * completion[:, 1:]).sum(-1)
    assert abs(naive[0].item() - alone[0].item()) > 1e-3


def test_logprobs_in_row_chunks_equal_one_pass(policy):
    # the held-out checks score hundreds of replies: they go through the model a few rows at a time
    import torch

    model, _ = policy
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 100, (7, 12), generator=generator)
    attention = torch.ones_like(ids)
    attention[2, :4] = 0  # one left-padded row
    completion = torch.zeros_like(ids)
    completion[:, -4:] = 1
    one_pass = sequence_logprobs(model, ids, attention, completion, rows=7)
    chunked = sequence_logprobs(model, ids, attention, completion, rows=3)
    assert chunked.shape == (7,)
    assert chunked.tolist() == pytest.approx(one_pass.tolist(), abs=1e-4)


def test_policy_logprobs_from_generation_equal_a_second_forward_pass(policy):
    # the held-out KL takes the policy's side from the logits generate computed while sampling (no second pass)
    model, tokenizer = policy
    rollouts = sample_rollouts(model, tokenizer, PROMPTS, max_new_tokens=8, seed=5, samples=3)
    again = sequence_logprobs(model, rollouts.sequences, rollouts.attention_mask, rollouts.completion_mask)
    assert rollouts.logprobs.shape == (9,)
    assert rollouts.logprobs.tolist() == pytest.approx(again.tolist(), abs=1e-3)
    assert min(rollouts.logprobs.tolist()) < -1.0  # real sums over several tokens, not zeros


def test_kl_of_a_model_against_a_copy_of_itself_is_zero_to_rounding(policy, tiny_gpt2_dir):
    from empathic_rlhf.models.loading import load_model_and_tokenizer

    model, tokenizer = policy
    copy = load_model_and_tokenizer(str(tiny_gpt2_dir))[0].eval()
    fns = [named("length", reply_length)]
    result = evaluate_heldout(model, copy, tokenizer, PROMPTS, fns, [1.0], max_new_tokens=6, seed=3, samples=4)
    assert abs(result.kl) < 1e-3
    assert set(result.seconds) == {"sample_and_kl", "score"}


def reply_length(prompts, completions, **kwargs):
    return [float(len(reply_text(c))) for c in completions]


def test_a_check_is_several_seeded_replies_per_prompt_and_repeats_exactly(policy):
    model, tokenizer = policy
    fns = [named("length", reply_length)]
    first = evaluate_heldout(model, model, tokenizer, PROMPTS, fns, [1.0], max_new_tokens=6, seed=3, samples=4)
    again = evaluate_heldout(model, model, tokenizer, PROMPTS, fns, [1.0], max_new_tokens=6, seed=3, samples=4)
    assert len(first.per_prompt) == 3 and len(first.replies) == 3
    assert first.per_prompt == again.per_prompt  # same seed, same model: the same replies
    assert first.kl == 0.0  # a model against itself
    assert (first.reward, first.reward_se) == pytest.approx(mean_and_se(first.per_prompt))
    other = evaluate_heldout(model, model, tokenizer, PROMPTS, fns, [1.0], max_new_tokens=6, seed=4, samples=4)
    assert other.per_prompt != first.per_prompt  # the seed is what makes them equal


def test_paired_difference_on_hand_made_numbers():
    diff, se = paired_difference([1.0, 2.0, 3.0, 4.0], [0.5, 1.5, 2.0, 4.0])  # differences .5 .5 1 0
    assert diff == pytest.approx(0.5)
    assert se == pytest.approx(math.sqrt((0 + 0 + 0.25 + 0.25) / 3 / 4))  # sample std / sqrt(n)
    with pytest.raises(ValueError):
        paired_difference([1.0], [1.0, 2.0])


def test_better_only_beyond_two_standard_errors_of_the_paired_difference():
    baseline = [0.0, 1.0, -1.0, 2.0, 0.5, -0.5]
    # a consistent +0.2 on every prompt (with +-0.05 jitter): SE 0.022, far below the gain
    steady = [b + 0.2 + (0.05 if i % 2 else -0.05) for i, b in enumerate(baseline)]
    assert is_better(steady, baseline, z=2.0)
    # the same +0.2 mean gain, made of +1.2 and -0.8 swings: SE 0.45, within the noise
    noisy = [b + (1.2 if i % 2 else -0.8) for i, b in enumerate(baseline)]
    assert paired_difference(noisy, baseline)[0] == pytest.approx(0.2)
    assert not is_better(noisy, baseline, z=2.0)
    assert not is_better(baseline, baseline, z=2.0)  # identical: no difference at all


def test_perplexity_on_human_replies_equals_one_unbatched_forward_pass_per_reply(policy):
    # the fluency axis of every check: exp(mean NLL per reply token), replies of different lengths batched together
    import torch

    model, tokenizer = policy
    references = ["I am so sorry.", "Congratulations, that is wonderful news for you!", "Oh no."]
    nll, tokens = 0.0, 0
    for prompt, reply in zip(PROMPTS, references):
        prompt_ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True,
                                                   return_dict=True)["input_ids"]
        full = tokenizer.apply_chat_template(prompt + [{"role": "assistant", "content": reply}], tokenize=True,
                                             return_dict=True)["input_ids"]
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=torch.tensor([full])).logits[0, :-1].float(), -1)
        picked = logp.gather(-1, torch.tensor(full[1:])[:, None]).squeeze(-1)[len(prompt_ids) - 1:]
        nll, tokens = nll - picked.sum().item(), tokens + len(full) - len(prompt_ids)
    assert reference_perplexity(model, tokenizer, PROMPTS, references) == pytest.approx(math.exp(nll / tokens),
                                                                                         rel=1e-4)
    assert not model.training
