"""Held-out checks of a policy during RL: reward and KL(pi_theta || pi) on prompts it never trains on.

The protocol (so that a kept checkpoint is better by more than its noise):

- two disjoint held-out sets: checkpoints are *selected* on one (``eval_prompts``) and the kept model is *reported*
  on the other (``report_prompts``), so the reported reward is not the maximum of several noisy draws;
- every check answers each prompt ``eval_samples`` times with the *same* seed, so two checks differ by their
  policies, not by their dice (common random numbers); the per-prompt mean reward is the unit of analysis;
- a checkpoint replaces the kept one only when the mean over prompts of (its per-prompt reward - the kept one's)
  exceeds ``z`` standard errors of that paired difference (``is_better``; z = 2 by default, ~ a one-sided 2.5%
  test), its KL is within the budget, and its share of stock replies did not rise beyond the same noise rule
  (``metrics/hacking.py``: a reward bought with "I'm so sorry to hear that. What happened?" is not a gain).

Each check also logs the reward-hacking monitors: shares of stock replies, of near-copies across prompts and of
questions, mean length and distinct-2; and, given the human replies to the selection prompts, the policy's
perplexity on them (``reference_perplexity``: the quantity evaluate reports on the test split), so every run draws
its reward-KL-fluency curve over checkpoints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..metrics.hacking import monitor_flags, monitor_summary
from ..models.logprobs import sequence_logprobs  # the one log-probability function
from ..stats import mean_se as mean_and_se  # mean and SE over prompts


@dataclass
class HeldoutResult:
    reward: float                 # mean over prompts of the per-prompt mean reward
    reward_se: float              # its standard error over prompts
    kl: float                     # mean KL(pi_theta || pi) per reply
    kl_se: float
    per_prompt: list[float]       # mean reward of each prompt's replies, in prompt order
    replies: list[str] = field(default_factory=list)  # the first reply to each prompt
    monitors: dict = field(default_factory=dict)      # metrics/hacking.monitor_summary of all replies
    stock_per_prompt: list[float] = field(default_factory=list)  # share of each prompt's replies that are stock
    seconds: dict = field(default_factory=dict)  # wall time of the check: sampling + KL, reward scoring


def paired_difference(candidate: list[float], baseline: list[float]) -> tuple[float, float]:
    """Mean and standard error of the per-prompt differences candidate - baseline (same prompts, same seeds)."""
    if len(candidate) != len(baseline):
        raise ValueError(f"paired comparison needs the same prompts: {len(candidate)} vs {len(baseline)}")
    return mean_and_se([c - b for c, b in zip(candidate, baseline)])


def is_better(candidate: list[float], baseline: list[float], z: float) -> bool:
    """True when candidate beats baseline by more than ``z`` standard errors of the paired difference."""
    diff, se = paired_difference(candidate, baseline)
    return diff > z * se if se > 0 else diff > 0


@dataclass
class Rollouts:
    """Replies sampled from a policy, with the token tensors needed to score their log-probabilities."""
    replies: list[str]            # ``samples`` per prompt, grouped by prompt
    completion_ids: list[list[int]]
    sequences: object             # (rows, prompt + completion) token ids, prompts left-padded
    attention_mask: object
    completion_mask: object       # 1 on reply tokens up to and including the end-of-reply token
    logprobs: object              # log p_policy(reply | prompt) per row, from the logits the sampling computed


def sample_rollouts(policy, tokenizer, prompts: list[list[dict]], max_new_tokens: int, seed: int,
                    samples: int) -> Rollouts:
    """``samples`` replies per prompt, drawn exactly as RL draws them (temperature 1, no top-p/top-k, stop at EOS),
    by the toolkit's decoding loop (generation/decoding.py: each prompt prefilled once for its ``samples`` replies,
    finished rows dropped), which also returns each reply's log-probability under the policy -- so the KL needs
    one forward pass (the reference's), not two. ``benchmarks/rl_profile.py`` times both."""
    import torch

    from ..generation.decoding import DecodingParams, decode_scored

    texts = [tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in prompts]
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    tokenizer.padding_side = side
    batch = {k: v.to(policy.device) for k, v in batch.items()}
    was_training = policy.training
    policy.eval()
    with torch.no_grad():
        ids, logprobs = decode_scored(policy, batch["input_ids"], batch["attention_mask"], samples,
                                      DecodingParams(max_new_tokens), [tokenizer.eos_token_id], seed)
    policy.train(was_training)
    # prompt + reply rows for the reference's forward pass: prompts left-padded, replies right-padded
    width = max(1, max(len(row) for row in ids))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    completion = torch.full((len(ids), width), pad, dtype=torch.long)
    in_reply = torch.zeros((len(ids), width), dtype=torch.long)
    for r, row in enumerate(ids):  # a reply's tokens up to and including its end-of-reply token
        completion[r, :len(row)] = torch.tensor(row, dtype=torch.long)
        in_reply[r, :len(row)] = 1
    prompt_ids = batch["input_ids"].cpu().repeat_interleave(samples, dim=0)
    prompt_mask = batch["attention_mask"].cpu().repeat_interleave(samples, dim=0)
    replies = [tokenizer.decode(row, skip_special_tokens=True).strip() for row in ids]
    device = policy.device
    return Rollouts(replies, ids, torch.cat([prompt_ids, completion], dim=1).to(device),
                    torch.cat([prompt_mask, in_reply], dim=1).to(device),
                    torch.cat([torch.zeros_like(prompt_ids), in_reply], dim=1).to(device),
                    torch.tensor(logprobs))


def score_rollouts(reward_fns, weights, prompts: list[list[dict]], rollouts: Rollouts, samples: int) -> list[float]:
    """The weighted reward of every reply (prompts repeated ``samples`` times, as the replies are grouped)."""
    repeated = [p for p in prompts for _ in range(samples)]
    completions = [[{"role": "assistant", "content": r}] for r in rollouts.replies]
    total = [0.0] * len(rollouts.replies)
    for fn, weight in zip(reward_fns, weights):
        for i, value in enumerate(fn(prompts=repeated, completions=completions,
                                     completion_ids=rollouts.completion_ids)):
            total[i] += weight * value
    return total


def per_prompt_means(values: list[float], samples: int) -> list[float]:
    return [sum(values[i:i + samples]) / samples for i in range(0, len(values), samples)]


def evaluate_heldout(policy, ref_model, tokenizer, prompts: list[list[dict]], reward_fns, weights,
                     max_new_tokens: int, seed: int = 0, samples: int = 4) -> HeldoutResult:
    """Score ``samples`` replies per prompt with the weighted reward; per-prompt means, their mean and SE."""
    was_training = policy.training
    policy.eval()  # no dropout in the log-probabilities either
    started = time.perf_counter()
    rollouts = sample_rollouts(policy, tokenizer, prompts, max_new_tokens, seed, samples)
    if ref_model is policy:  # π against itself (the report's baseline): KL is 0, no forward pass needed
        kls = [0.0] * len(rollouts.replies)
    else:
        args = (rollouts.sequences, rollouts.attention_mask, rollouts.completion_mask)
        kls = (rollouts.logprobs - sequence_logprobs(ref_model, *args).cpu()).tolist()
    policy.train(was_training)
    sampled = time.perf_counter()
    per_prompt = per_prompt_means(score_rollouts(reward_fns, weights, prompts, rollouts, samples), samples)
    reward, reward_se = mean_and_se(per_prompt)
    kl, kl_se = mean_and_se(per_prompt_means(kls, samples))
    owners = [i // samples for i in range(len(rollouts.replies))]
    stock = monitor_flags(rollouts.replies, owners)["stock"].tolist()
    return HeldoutResult(reward, reward_se, kl, kl_se, per_prompt, rollouts.replies[::samples],
                         monitor_summary(rollouts.replies, owners), per_prompt_means(stock, samples),
                         {"sample_and_kl": sampled - started, "score": time.perf_counter() - sampled})


def reference_perplexity(policy, tokenizer, prompts: list[list[dict]], references: list[str]) -> float:
    """exp(mean negative log-probability per token) of the human ``references`` to ``prompts`` under ``policy``:
    how fluent the policy still finds human replies (it rises when RL pulls the policy away from language)."""
    import math

    from ..models.logprobs import reply_logprobs

    was_training = policy.training
    policy.eval()
    sums, counts = reply_logprobs(policy, tokenizer, prompts, references)
    policy.train(was_training)
    return math.exp(-sum(sums) / max(1, sum(counts)))


def stock_rose(candidate: HeldoutResult | dict, kept: dict | None, z: float) -> bool:
    """Whether the candidate's per-prompt stock share rose beyond noise over the kept model's (same rule as a
    reward gain: paired, ``z`` standard errors)."""
    before = (kept or {}).get("stock_per_prompt")
    after = candidate["stock_per_prompt"] if isinstance(candidate, dict) else candidate.stock_per_prompt
    return bool(before) and bool(after) and is_better(after, before, z)
