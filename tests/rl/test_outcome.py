"""A run that trained nothing says so (stderr warning + flags in the summary) instead of reporting a gain."""

import json

from empathic_rlhf.rl.config import RlConfig
from empathic_rlhf.rl.outcome import training_outcome
from empathic_rlhf.rl.rewards import named, reply_text


def test_every_reply_truncated_and_masked_means_nothing_in_the_loss():
    log = [{"step": 1, "completions/clipped_ratio": 1.0}, {"step": 2, "completions/clipped_ratio": 1.0},
           {"step": 2, "train_runtime": 3.0}]
    outcome = training_outcome(log, changed=True, kept_step=2, mask_truncated=True)
    assert outcome["nothing_trained"] and outcome["steps_all_truncated"] == 2 and outcome["steps"] == 2
    assert "no token was trained on" in outcome["warnings"][0]
    # the same replies, not masked: they were trained on
    assert not training_outcome(log, changed=True, kept_step=2, mask_truncated=False)["nothing_trained"]
    partly = [{"step": 1, "completions/clipped_ratio": 1.0}, {"step": 2, "completions/clipped_ratio": 0.75}]
    assert training_outcome(partly, changed=True, kept_step=2, mask_truncated=True)["warnings"] == []


def test_a_run_that_changed_no_weight_warns_and_flags_it(tmp_path, capsys):
    from empathic_rlhf.models.embedded import build_tiny_gpt2
    from empathic_rlhf.rl.trainer import train_rl

    policy_dir = build_tiny_gpt2(tmp_path / "tiny", None)
    config = RlConfig(algorithm="rloo", learning_rate=0.0, num_generations=2, prompts_per_step=2,
                      max_completion_length=4, max_steps=2, eval_steps=2, eval_prompts=2, eval_samples=2,
                      normalize_rewards=False, kl_budget=1e9)
    prompts = [[{"role": "user", "content": c}] for c in ("I got the job!", "My dog died.")] * 2

    def length(prompts, completions, **kwargs):
        return [float(len(reply_text(c))) for c in completions]

    summary = train_rl(config, str(policy_dir), prompts, prompts[:2], [named("length", length)], [1.0],
                       tmp_path / "rl", seed=0, report_prompts=prompts[2:])
    outcome = summary["outcome"]
    assert outcome["nothing_trained"] and not outcome["policy_changed"]
    assert outcome["kept_is_pi"] and summary["kept"]["step"] == 0  # an unchanged policy never beats π
    assert summary["report"]["diff_vs_pi"] == 0.0
    err = capsys.readouterr().err
    assert "WARNING [rl]: the policy's weights equal π's after training: nothing was trained" in err
    assert "rl/model is π" in err
    assert json.loads((tmp_path / "rl" / "metrics.json").read_text())["outcome"]["nothing_trained"] is True
