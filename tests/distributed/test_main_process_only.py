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
    results = sorted((json.loads(line.split("RESULT ", 1)[1]) for line in done.stdout.splitlines()
                      if line.startswith("RESULT ")), key=lambda r: r["rank"])
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
