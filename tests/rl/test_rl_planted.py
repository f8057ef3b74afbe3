"""RLOO and GRPO on a tiny GPT-2 raise a planted reward while the adaptive controller, driven by TRL's logged KL
(a TrainerCallback), moves beta towards the KL target; checkpoints are kept by the paired held-out rule."""

import json

import pytest

from empathic_rlhf.rl.config import RlConfig
from empathic_rlhf.rl.heldout import is_better
from empathic_rlhf.rl.rewards import named, reply_text

CONTEXTS = ["My dog died last week.", "I got the job!", "I failed my driving test.", "We are moving abroad.",
            "My sister had a baby.", "I lost my wallet.", "I passed my exam.", "My car broke down again."]
TARGET = 4.0


def e_fraction(prompts, completions, **kwargs):
    """Planted reward: ten times the share of characters of the reply that are the letter "e"."""
    texts = [reply_text(c) for c in completions]
    return [10 * t.count("e") / max(1, len(t)) for t in texts]


@pytest.fixture(scope="module", params=["rloo", "grpo"])
def rl_run(request, tmp_path_factory):
    from empathic_rlhf.models.embedded import build_tiny_gpt2
    from empathic_rlhf.rl.trainer import train_rl

    # A small local BPE (a few hundred tokens): a random policy then repeats tokens often enough for a
    # planted reward to be learnable in a few steps; with GPT-2's 50k tokens it is not.
    policy_dir = build_tiny_gpt2(tmp_path_factory.mktemp("tiny-local-bpe"), None)
    out = tmp_path_factory.mktemp(f"rl-{request.param}")
    config = RlConfig(algorithm=request.param, beta=0.1, adaptive_kl=True, kl_target=TARGET, kl_horizon=16,
                      num_generations=4, prompts_per_step=4, max_completion_length=8, learning_rate=1e-2,
                      max_steps=32, eval_steps=16, eval_prompts=4, eval_samples=4, kl_budget=50.0,
                      mask_truncated_completions=False, normalize_rewards=False)  # the raw planted scale
    prompts = [[{"role": "user", "content": c}] for c in CONTEXTS] * 8
    selection = [[{"role": "user", "content": c}] for c in CONTEXTS[:4]]
    report = [[{"role": "user", "content": c}] for c in CONTEXTS[4:]]
    summary = train_rl(config, str(policy_dir), prompts, selection, [named("planted", e_fraction)], [1.0], out,
                       seed=0, report_prompts=report)
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return request.param, summary, [r for r in log if "reward" in r], out


def test_rl_raises_the_planted_reward(rl_run):
    _, _, steps, _ = rl_run
    first = sum(r["reward"] for r in steps[:4]) / 4
    last = sum(r["reward"] for r in steps[-4:]) / 4
    assert last > first + 0.3, (first, last)


def test_beta_moves_towards_the_kl_target_every_step(rl_run):
    algorithm, summary, steps, _ = rl_run
    assert len(steps) == 32 and summary["kl_control"]["mode"] == "adaptive"
    beta = 0.1
    for record in steps:
        # the KL per reply is TRL's logged per-token KL times its logged mean reply length
        assert record["kl_sequence"] == pytest.approx(record["kl"] * record["completions/mean_length"])
        assert record["beta_used"] == pytest.approx(beta)  # the beta of the step is the one set after the last
        error = min(max(record["kl_sequence"] / TARGET - 1, -0.2), 0.2)
        assert record["beta"] == pytest.approx(beta * (1 + error * 16 / 16))
        assert (record["beta"] > beta) == (record["kl_sequence"] > TARGET), (algorithm, record)
        beta = record["beta"]
    assert beta != pytest.approx(0.1, rel=0.05)  # it moved
    assert summary["final_beta"] == pytest.approx(beta)


def test_keeps_a_checkpoint_only_when_it_beats_the_kept_one_beyond_noise(rl_run):
    _, summary, _, out = rl_run
    checks = summary["heldout"]
    assert [c["step"] for c in checks] == [0, 16, 32] and checks[0]["kept"]
    kept = checks[0]
    for check in checks[1:]:
        assert len(check["per_prompt"]) == 4 and check["samples_per_prompt"] == 4 and check["seed"] == 0
        assert check["kept"] == (check["heldout_kl"] <= 50 and is_better(check["per_prompt"], kept["per_prompt"], 2.0))
        kept = check if check["kept"] else kept
    assert summary["kept"]["step"] == kept["step"]
    assert json.loads((out / "model" / "selection.json").read_text())["step"] == kept["step"]


def test_reports_the_kept_model_against_pi_on_the_disjoint_report_set(rl_run):
    _, summary, _, _ = rl_run
    report = summary["report"]
    assert report["n_prompts"] == 4 and report["samples_per_prompt"] == 4
    assert report["diff_vs_pi"] == pytest.approx(report["kept_reward"] - report["pi_reward"])
    # the planted reward ignores the context, so the kept model's gain carries over to unseen prompts
    assert summary["kept"]["step"] > 0 and report["diff_vs_pi"] > 2 * report["diff_vs_pi_se"] > 0
    assert summary["outcome"]["policy_changed"] and not summary["outcome"]["nothing_trained"]
