"""RL (GRPO) on 2 CPU processes (gloo) under `accelerate launch`, against one process, same config and seed: one
set of outputs written once, the same number of replies per optimizer step over all processes (each process
answers half), and the parts that do not depend on sampling (π's held-out check, the reward statistics) equal."""

import json
from collections import Counter
from pathlib import Path

import pytest

from launching import files_under, launch_two, per_process_rng_files
from rl_job import CONFIG
from rl_job import main as run_rl_job

pytestmark = pytest.mark.multiprocess
HERE = Path(__file__).parent
STEPS = CONFIG["max_steps"]
REPLIES_PER_STEP = CONFIG["prompts_per_step"] * CONFIG["num_generations"]


@pytest.fixture(scope="module")
def rl_runs(tmp_path_factory):
    from empathic_rlhf.models.embedded import build_tiny_gpt2

    root = tmp_path_factory.mktemp("dist-rl")
    policy = build_tiny_gpt2(root / "policy", None)  # a raw base model: RL first saves a resized copy ("start")
    run_rl_job(str(policy), str(root / "one"), str(root / "counts-one"))
    done = launch_two(str(HERE / "rl_job.py"), str(policy), str(root / "two"), str(root / "counts-two"))
    assert done.returncode == 0, done.stderr[-3000:]
    return root


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def replies_per_step(counts_file):
    counts = Counter()
    for record in read_jsonl(counts_file):
        if record["step"] is not None:  # a training step's rewards (not a held-out check)
            counts[record["step"]] += record["replies"]
    return [counts[step] for step in range(1, STEPS + 1)]


def test_outputs_are_written_once(rl_runs):
    one, two = rl_runs / "one", rl_runs / "two"
    files_one, files_two = files_under(one), files_under(two)
    assert files_two - per_process_rng_files(files_two) == files_one - per_process_rng_files(files_one)
    assert {f for f in files_two if f.endswith("model.safetensors") and "checkpoint-" not in f} == {
        "model/model.safetensors", "start/model.safetensors"}
    steps = [r["step"] for r in read_jsonl(two / "log.jsonl") if "kl" in r]
    assert steps == list(range(1, STEPS + 1))  # one record per step, not one per process
    assert [c["step"] for c in read_jsonl(two / "heldout.jsonl")] == [0, 2, 4]
    assert len(read_jsonl(two / "samples.jsonl")) == len(read_jsonl(one / "samples.jsonl"))
    for step in (2, 4):
        assert (two / "checkpoints" / f"checkpoint-{step}" / "rl_state.json").is_file()
    metrics = json.loads((two / "metrics.json").read_text())
    assert metrics["steps"] == STEPS and metrics["report"]["n_prompts"] == 4


def test_each_step_sees_the_same_number_of_replies_split_over_the_processes(rl_runs):
    assert replies_per_step(rl_runs / "counts-one" / "rank0.jsonl") == [REPLIES_PER_STEP] * STEPS
    share = [REPLIES_PER_STEP // 2] * STEPS
    assert replies_per_step(rl_runs / "counts-two" / "rank0.jsonl") == share
    assert replies_per_step(rl_runs / "counts-two" / "rank1.jsonl") == share
    # the held-out checks and the reward statistics run on the main process only
    assert all(r["step"] is not None for r in read_jsonl(rl_runs / "counts-two" / "rank1.jsonl"))


def test_what_does_not_depend_on_sampling_is_equal(rl_runs):
    one, two = rl_runs / "one", rl_runs / "two"
    check_one, check_two = read_jsonl(one / "heldout.jsonl")[0], read_jsonl(two / "heldout.jsonl")[0]
    assert check_two["per_prompt"] == check_one["per_prompt"]  # step 0: π, the same prompts and seeds
    stats = [json.loads((run / "reward_normalization.json").read_text())["components"] for run in (one, two)]
    assert stats[1] == stats[0] and stats[0]["planted"]["n"] == CONFIG["normalize_prompts"] * CONFIG["num_generations"]
