"""RLOO on a tiny GPT-2 raises a planted reward while the adaptive controller moves beta towards the KL target."""

import json

import pytest

from empathic_rlhf.rl.config import RlConfig
from empathic_rlhf.rl.rewards import named, reply_text

CONTEXTS = ["My dog died last week.", "I got the job!", "I failed my driving test.", "We are moving abroad.",
            "My sister had a baby.", "I lost my wallet.", "I passed my exam.", "My car broke down again."]


def e_fraction(prompts, completions, **kwargs):
    """Planted reward: ten times the share of characters of the reply that are the letter "e"."""
    texts = [reply_text(c) for c in completions]
    return [10 * t.count("e") / max(1, len(t)) for t in texts]


@pytest.fixture(scope="module")
def rl_run(tmp_path_factory):
    from empathic_rlhf.models.embedded import build_tiny_gpt2
    from empathic_rlhf.rl.trainer import train_rl

    # A small local BPE (a few hundred tokens): a random policy then repeats tokens often enough for a
    # planted reward to be learnable in a few steps; with GPT-2's 50k tokens it is not.
    policy_dir = build_tiny_gpt2(tmp_path_factory.mktemp("tiny-local-bpe"), None)
    out = tmp_path_factory.mktemp("rl")
    config = RlConfig(beta=0.1, adaptive_kl=True, kl_target=4.0, kl_horizon=16, num_generations=4,
                      prompts_per_step=4, max_completion_length=8, learning_rate=1e-2, max_steps=32,
                      eval_steps=16, eval_prompts=4, kl_budget=50.0, mask_truncated_completions=False,
                      normalize_rewards=False)  # the raw planted scale, which the thresholds below are in
    prompts = [[{"role": "user", "content": c}] for c in CONTEXTS] * 8
    heldout = [[{"role": "user", "content": c}] for c in CONTEXTS[:4]]
    summary = train_rl(config, str(policy_dir), prompts, heldout, [named("planted", e_fraction)], [1.0], out,
                       seed=0)
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return summary, [r for r in log if "reward" in r], out


def test_rl_raises_the_planted_reward(rl_run):
    _, steps, _ = rl_run
    first = sum(r["reward"] for r in steps[:4]) / 4
    last = sum(r["reward"] for r in steps[-4:]) / 4
    assert last > first + 0.3, (first, last)


def test_adaptive_controller_keeps_kl_near_target(rl_run):
    _, steps, _ = rl_run
    target = 4.0
    for before, after in zip(steps, steps[1:]):
        # beta rises after a step whose KL per reply was above target, and falls after one below
        assert (after["beta"] > before["beta"]) == (after["kl_sequence"] > target)
    late = [r["kl_sequence"] for r in steps[len(steps) // 2:]]
    assert target / 4 < sum(late) / len(late) < target * 4


def test_keeps_best_heldout_checkpoint_within_budget(rl_run):
    summary, _, out = rl_run
    kept = summary["kept"]
    assert kept is not None and kept["heldout_kl"] <= 50.0
    assert kept["heldout_reward"] == max(h["heldout_reward"] for h in summary["heldout"] if h["heldout_kl"] <= 50)
    assert (out / "model" / "config.json").is_file() and (out / "samples.jsonl").read_text()
