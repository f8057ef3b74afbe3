"""The helpers that keep two processes from racing: one process computes, every process gets its result or error."""

import json
from pathlib import Path

import pytest

from launching import launch_two

from empathic_rlhf import distributed
from empathic_rlhf.errors import EmpathicError

HERE = Path(__file__).parent


def test_main_only_results_and_errors_reach_every_process():
    done = launch_two(str(HERE / "helpers_job.py"))
    assert done.returncode != 0, done.stdout  # the planted failure ends both processes
    # both processes print to one pipe: each record arrives whole, but two may share a line ("RESULT {..}RESULT {..}")
    decoder, marker = json.JSONDecoder(), "RESULT "
    starts = [i + len(marker) for i in range(len(done.stdout)) if done.stdout.startswith(marker, i)]
    results = sorted((decoder.raw_decode(done.stdout, i)[0] for i in starts), key=lambda r: r["rank"])
    assert [(r["rank"], r["processes"], r["main"]) for r in results] == [(0, 2, True), (1, 2, False)]
    for seen in results:  # computed on process 0 only, handed to both
        assert seen["outer"] == {"outer_on": 0, "nested": {"inner_on": 0, "x": 7}}
        assert seen["error"] == "planted failure on process 0"


def test_not_launched_every_helper_is_a_no_op(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert (distributed.num_processes(), distributed.process_index(), distributed.is_main_process()) == (1, 0, True)
    distributed.wait_for_everyone()
    assert distributed.main_process_only(lambda: 5)() == 5
    assert distributed.shard_evenly(16, "rl.prompts_per_step x rl.num_generations") == 16


def test_a_global_batch_that_does_not_divide_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(distributed, "num_processes", lambda: 3)
    assert distributed.shard_evenly(12, "x") == 4
    with pytest.raises(EmpathicError, match="rl.prompts_per_step x rl.num_generations = 16 does not divide over 3"):
        distributed.shard_evenly(16, "rl.prompts_per_step x rl.num_generations")


def test_one_process_commands_refuse_under_a_launch(monkeypatch, capsys):
    from empathic_rlhf.cli import main

    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["data", "stats", "--data-dir", "/nonexistent"]) == 2
    assert "empathic data runs in one process; under accelerate launch use a stage command" in capsys.readouterr().err


@pytest.mark.parametrize("env, named", [({"ACCELERATE_USE_FSDP": "true"}, "FSDP"),
                                        ({"ACCELERATE_USE_DEEPSPEED": "true", "ACCELERATE_DEEPSPEED_ZERO_STAGE": "3"},
                                         "ZeRO-3")])
def test_stages_that_need_the_whole_model_refuse_sharded_weights(monkeypatch, env, named):
    """RL, reward and DPO use the whole model on the main process after training: under ZeRO-3 / FSDP they would
    wait on the other shards until the timeout, so they refuse at once; ZeRO-2 and DDP pass."""
    from empathic_rlhf.dpo import stage as dpo_stage
    from empathic_rlhf.reward import stage as reward_stage
    from empathic_rlhf.rl import stage as rl_stage

    monkeypatch.setenv("WORLD_SIZE", "2")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for stage_module in (rl_stage, reward_stage, dpo_stage):
        with pytest.raises(EmpathicError, match=f"needs the whole model on every process.*not {named}"):
            stage_module.run(None)
    monkeypatch.setenv("ACCELERATE_DEEPSPEED_ZERO_STAGE", "2")
    monkeypatch.delenv("ACCELERATE_USE_FSDP", raising=False)
    distributed.refuse_sharded_weights("rl")  # ZeRO-2 keeps whole weights on every process: allowed
