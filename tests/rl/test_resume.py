"""A run killed mid-way resumes with its beta and its kept-checkpoint record, from the checkpoint that has them."""

import json

import pytest

from empathic_rlhf.rl.config import RlConfig
from empathic_rlhf.rl.heldout import is_better
from empathic_rlhf.rl.rewards import named, reply_text
from empathic_rlhf.rl.state import STATE_FILE, resumable_checkpoint

CONTEXTS = ["My dog died last week.", "I got the job!", "I failed my driving test.", "We are moving abroad."]


class Killed(Exception):
    pass


def e_fraction(prompts, completions, **kwargs):
    return [10 * reply_text(c).count("e") / max(1, len(reply_text(c))) for c in completions]


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    from transformers import TrainerCallback

    from empathic_rlhf.models.embedded import build_tiny_gpt2
    from empathic_rlhf.rl.trainer import train_rl

    class KillAtStep(TrainerCallback):
        """Dies like a killed process at the end of step 6: after checkpoint-4, before checkpoint-8."""
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 6:
                raise Killed

    policy_dir = build_tiny_gpt2(tmp_path_factory.mktemp("tiny-local-bpe"), None)
    out = tmp_path_factory.mktemp("rl-resume")
    config = RlConfig(algorithm="grpo", beta=0.1, kl_target=0.5, kl_horizon=16, num_generations=4,
                      prompts_per_step=4, max_completion_length=8, learning_rate=1e-2, max_steps=8, eval_steps=4,
                      eval_prompts=4, eval_samples=2, kl_budget=50.0, mask_truncated_completions=False,
                      normalize_rewards=False)
    prompts = [[{"role": "user", "content": c}] for c in CONTEXTS] * 8
    args = (config, str(policy_dir), prompts, prompts[:4], [named("planted", e_fraction)], [1.0], out)
    with pytest.raises(Killed):
        train_rl(*args, seed=0, callbacks=[KillAtStep()])
    before = {"log": read_jsonl(out / "log.jsonl"), "heldout": read_jsonl(out / "heldout.jsonl"),
              "state": json.loads((out / "checkpoints" / "checkpoint-4" / STATE_FILE).read_text()),
              "resumable": resumable_checkpoint(out / "checkpoints")}
    summary = train_rl(*args, seed=0)
    return before, summary, out


def test_the_checkpoint_carries_beta_and_the_kept_record(resumed):
    before, _, _ = resumed
    assert before["resumable"].name == "checkpoint-4"
    at_4 = next(r for r in before["log"] if r["step"] == 4 and "kl" in r)
    assert before["state"]["beta"] == pytest.approx(at_4["beta"]) and before["state"]["beta"] != 0.1
    assert before["state"]["best"] == [c for c in before["heldout"] if c["kept"]][-1]  # the record kept by step 4
    assert [r["step"] for r in before["log"] if "kl" in r] == [1, 2, 3, 4, 5]  # killed before step 6 logged


def test_resumed_run_continues_beta_and_logs_each_step_once(resumed):
    before, summary, out = resumed
    steps = [r for r in read_jsonl(out / "log.jsonl") if "kl" in r]
    assert [r["step"] for r in steps] == list(range(1, 9))  # step 5 of the killed run was dropped and redone
    step_5 = steps[4]
    assert step_5["beta_used"] == pytest.approx(before["state"]["beta"])  # not the configured 0.1
    assert summary["steps"] == 8 and summary["final_beta"] == pytest.approx(steps[-1]["beta"])


def test_resumed_run_keeps_the_saved_record_and_compares_against_it(resumed):
    before, summary, out = resumed
    checks = read_jsonl(out / "heldout.jsonl")
    assert [c["step"] for c in checks] == [0, 4, 8]  # step 0 (π) was not re-checked
    assert checks[:2] == before["heldout"][:2]
    saved_best = before["state"]["best"]
    assert checks[2]["diff_vs_kept"] is not None  # judged against the record carried over, not kept by default
    assert checks[2]["kept"] == (checks[2]["heldout_kl"] <= 50 and
                                 is_better(checks[2]["per_prompt"], saved_best["per_prompt"], 2.0))
    kept = checks[2] if checks[2]["kept"] else saved_best
    assert summary["kept"]["step"] == kept["step"]
    assert json.loads((out / "model" / "selection.json").read_text())["step"] == kept["step"]


def test_a_checkpoint_without_its_rl_state_is_not_resumed(tmp_path):
    for step, files in ((4, ("trainer_state.json", STATE_FILE)), (8, ("trainer_state.json",)), (12, ())):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        for name in files:
            (folder / name).write_text("{}")
    assert resumable_checkpoint(tmp_path).name == "checkpoint-4"  # 8: torn before its state; 12: mid-save
