"""The one log-probability function (models/logprobs.py): batched rows equal one row fed alone, the reply's tokens
only, and the reply's start is checked against the prompt's rendering, not assumed."""

import pytest

from empathic_rlhf.models.logprobs import reply_logprobs, reply_token_ids, shared_prompt_logprobs

PROMPTS = [[{"role": "user", "content": "My dog died last week."}],
           [{"role": "user", "content": "I got the job!"}, {"role": "assistant", "content": "Congratulations!"},
            {"role": "user", "content": "Thanks, I start on Monday and I am nervous."}],
           [{"role": "user", "content": "Hi"}]]
REPLIES = ["I am so sorry.", "You will do great, what is the job?", "Hello there, how are you today?"]


def one_alone(model, tokenizer, prompt, reply) -> float:
    """log p(reply | prompt) of a single unpadded row, as dpo/train.py computed it before (one pass per reply)."""
    import torch

    prompt_ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_dict=True)["input_ids"]
    full_ids = tokenizer.apply_chat_template([*prompt, {"role": "assistant", "content": reply}],
                                             return_dict=True)["input_ids"]
    ids = torch.tensor([full_ids])
    with torch.no_grad():
        logps = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), -1)
    return logps.gather(-1, ids[0, 1:, None]).squeeze(-1)[len(prompt_ids) - 1:].sum().item()


def test_batched_reply_logprobs_equal_each_reply_alone(tiny_gpt2_dir):
    from empathic_rlhf.models.loading import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(str(tiny_gpt2_dir))
    model.eval()
    batched, counts = reply_logprobs(model, tokenizer, PROMPTS, REPLIES, batch_size=3)
    alone = [one_alone(model, tokenizer, p, r) for p, r in zip(PROMPTS, REPLIES)]
    assert batched == pytest.approx(alone, abs=1e-4)
    for prompt, reply, count in zip(PROMPTS, REPLIES, counts):
        ids, n_prompt = reply_token_ids(tokenizer, prompt, [{"role": "assistant", "content": reply}])
        assert count == len(ids) - n_prompt > 0
    assert reply_logprobs(model, tokenizer, PROMPTS, REPLIES, batch_size=1)[0] == pytest.approx(batched, abs=1e-4)


def test_replies_sharing_one_prompt_score_as_each_reply_alone(tiny_gpt2_dir):
    """The prompt's keys and values computed once and shared: same sums and counts as the plain rows, for replies
    of different lengths (padding), the empty reply, and rows split across forward passes."""
    from empathic_rlhf.models.loading import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(str(tiny_gpt2_dir))
    model.eval()
    prompt = PROMPTS[1]
    replies = [*REPLIES, "", "ok", "I am so sorry. " * 6]
    shared, shared_counts = shared_prompt_logprobs(model, tokenizer, prompt, replies, rows=2)
    plain, plain_counts = reply_logprobs(model, tokenizer, [prompt] * len(replies), replies)
    assert shared == pytest.approx(plain, abs=1e-4) and shared_counts == plain_counts
    assert shared_prompt_logprobs(model, tokenizer, prompt, []) == ([], [])


class Rerendering:
    """A chat template that renders the prompt differently once a reply follows (a system line moves)."""

    def apply_chat_template(self, messages, add_generation_prompt=False, tokenize=True, return_dict=True):
        if add_generation_prompt:
            return {"input_ids": [1, 2, 3, 4, 9]}
        return {"input_ids": [1, 2, 7, 3, 4, 9, 20, 21]}


def test_a_prompt_that_is_no_prefix_counts_only_the_common_prefix_as_prompt():
    ids, n_prompt = reply_token_ids(Rerendering(), [{"role": "user", "content": "x"}],
                                    [{"role": "assistant", "content": "y"}])
    assert ids == [1, 2, 7, 3, 4, 9, 20, 21] and n_prompt == 2  # not the prompt's length (5), which cut at random
