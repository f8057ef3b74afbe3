"""Held-out check of a policy during RL: mean reward and KL(pi_theta || pi) on prompts it never trains on.

Used every ``eval_steps`` to keep the checkpoint with the best held-out reward whose KL stays within the budget --
the guard against reward hacking and over-optimisation (earlier work on this task saw it after ~100 PPO steps).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class HeldoutResult:
    reward: float
    kl: float
    replies: list[str]


def sequence_logprobs(model, input_ids, attention_mask, completion_mask):
    """Sum of log-probabilities of the completion tokens of each row."""
    import torch

    with torch.no_grad():
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1].float()
    logps = torch.log_softmax(logits, dim=-1).gather(-1, input_ids[:, 1:, None]).squeeze(-1)
    return (logps * completion_mask[:, 1:]).sum(-1)


def evaluate_heldout(policy, ref_model, tokenizer, prompts: list[list[dict]], reward_fns, weights,
                     max_new_tokens: int, seed: int = 0) -> HeldoutResult:
    """Sample one reply per prompt (temperature 1, as in training), score it, and estimate the sequence KL."""
    import torch

    was_training = policy.training
    policy.eval()
    texts = [tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in prompts]
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    tokenizer.padding_side = side
    torch.manual_seed(seed)
    with torch.no_grad():
        out = policy.generate(**batch, do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
                              max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                              eos_token_id=tokenizer.eos_token_id)
    prompt_len = batch["input_ids"].shape[1]
    completion = out[:, prompt_len:]
    # Completion tokens up to and including the first end-of-reply token.
    is_eos = completion == tokenizer.eos_token_id
    after_eos = (is_eos.cumsum(-1) - is_eos.long()) > 0
    completion_mask = torch.cat([torch.zeros_like(batch["input_ids"]), (~after_eos).long()], dim=1)
    attention = torch.cat([batch["attention_mask"], (~after_eos).long()], dim=1)
    kl = (sequence_logprobs(policy, out, attention, completion_mask)
          - sequence_logprobs(ref_model, out, attention, completion_mask))
    replies = [tokenizer.decode(row[m.bool()], skip_special_tokens=True).strip()
               for row, m in zip(completion, ~after_eos)]
    completions = [[{"role": "assistant", "content": r}] for r in replies]
    ids = [row[m.bool()].tolist() for row, m in zip(completion, ~after_eos)]
    total = [0.0] * len(prompts)
    for fn, weight in zip(reward_fns, weights):
        for i, value in enumerate(fn(prompts=prompts, completions=completions, completion_ids=ids)):
            total[i] += weight * value
    policy.train(was_training)
    return HeldoutResult(sum(total) / len(total), kl.mean().item(), replies)
