"""SFT on 2 CPU processes (gloo), started by `empathic run --launcher accelerate`, against the same SFT in one
process with the same global batch (4 = 1 x 4 = 2 x 2): one run directory, one model, one manifest entry, the
same samples in every optimizer step and losses within dropout noise."""

import json

import pytest

from helpers import write_jsonl
from launching import files_under, free_port, per_process_rng_files
from planted import synthetic_conversations

from empathic_rlhf.cli import main

pytestmark = pytest.mark.multiprocess

TINY_SFT = ["--sft.method=full", "--sft.max_steps=6", "--sft.eval_steps=3", "--sft.learning_rate=0.001",
            "--sft.logging_steps=1"]
# The tiny GPT-2 trains with dropout 0.1 and each process draws its own masks, so the two runs' training losses
# differ by dropout noise (0.02 seen); evaluation has no dropout, so only the weights' small drift shows there.
TRAIN_LOSS_TOLERANCE = 0.1
EVAL_LOSS_TOLERANCE = 0.02


@pytest.fixture(scope="module")
def sft_runs(tiny_gpt2_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("dist-sft")
    data = root / "data"
    write_jsonl(data / "train.jsonl", synthetic_conversations(24, "train"))
    write_jsonl(data / "valid.jsonl", synthetic_conversations(16, "valid", offset=100))
    write_jsonl(data / "test.jsonl", synthetic_conversations(4, "test", offset=200))
    common = ["--runs-dir", str(root / "runs"), "--data-dir", str(data), "--base-model", str(tiny_gpt2_dir),
              *TINY_SFT, "--keep_checkpoints=true"]  # the tests read the trainers' own state in them
    assert main(["sft", "--name", "one", *common, "--sft.per_device_train_batch_size=4"]) == 0
    two = ["--name", "two", *common, "--sft.per_device_train_batch_size=2"]
    assert main(["run", "--until", "sft", *two, "--launcher", "accelerate", "--num-processes", "2",
                 "--accelerate-config", "cpu_2proc", "--main-process-port", str(free_port())]) == 0
    return root / "runs" / "one", root / "runs" / "two", two


def log_history(run):
    return json.loads((run / "sft" / "checkpoints" / "checkpoint-6" / "trainer_state.json").read_text())["log_history"]


def test_one_model_one_manifest_entry_and_no_stray_files(sft_runs):
    one, two, _ = sft_runs
    manifest = json.loads((two / "manifest.json").read_text())
    assert list(manifest["stages"]) == ["prepare", "sft"]
    assert json.loads((two / "sft" / "metrics.json").read_text())["processes"] == 2
    assert manifest["stages"]["sft"]["summary"]["steps"] == 6
    files_one, files_two = files_under(one), files_under(two)
    assert [f for f in files_two if f.endswith("model.safetensors") and "checkpoint-" not in f] == [
        "sft/model/model.safetensors"]
    rng_one, rng_two = per_process_rng_files(files_one), per_process_rng_files(files_two)
    assert files_two - rng_two == files_one - rng_one  # the same files, nothing from process 1 and no temporaries
    assert rng_two == {f"sft/checkpoints/checkpoint-{n}/rng_state_{rank}.pth" for n in (3, 6) for rank in (0, 1)}


def test_every_step_sees_the_same_samples_and_the_losses_agree(sft_runs):
    one, two, _ = sft_runs
    history_one, history_two = log_history(one), log_history(two)
    train_one = [h for h in history_one if "loss" in h]
    train_two = [h for h in history_two if "loss" in h]
    assert [h["step"] for h in train_two] == [1, 2, 3, 4, 5, 6]
    # tokens seen so far, summed over the processes: equal at every step = the same samples in every batch
    assert [h["num_tokens"] for h in train_two] == [h["num_tokens"] for h in train_one]
    for a, b in zip(train_one, train_two):
        assert b["loss"] == pytest.approx(a["loss"], abs=TRAIN_LOSS_TOLERANCE), a["step"]
    evals_one = [(h["step"], h["eval_loss"]) for h in history_one if "eval_loss" in h]
    evals_two = [(h["step"], h["eval_loss"]) for h in history_two if "eval_loss" in h]
    assert [s for s, _ in evals_two] == [s for s, _ in evals_one] == [0, 3, 6]
    assert evals_two[0][1] == pytest.approx(evals_one[0][1], abs=1e-5)  # step 0: the same π, the same valid set
    for (step, a), (_, b) in zip(evals_one[1:], evals_two[1:]):
        assert b == pytest.approx(a, abs=EVAL_LOSS_TOLERANCE), step


def test_a_plain_run_afterwards_finds_the_launched_stage_up_to_date(sft_runs, capsys):
    _, _, two = sft_runs
    capsys.readouterr()
    assert main(["run", "--until", "sft", *two]) == 0
    err = capsys.readouterr().err
    assert "[prepare] up to date, skipped" in err and "[sft] up to date, skipped" in err


def test_a_failing_launched_stage_stops_the_run_naming_it(sft_runs, capfd):
    _, _, two = sft_runs
    capfd.readouterr()
    assert main(["run", "--until", "sft", *two, "--sft.train_split=missing", "--launcher", "accelerate",
                 "--num-processes", "2", "--accelerate-config", "cpu_2proc",
                 "--main-process-port", str(free_port())]) == 2
    err = capfd.readouterr().err  # the launched processes write to the same stderr
    assert "prepare/missing: prepared split not found" in err  # the launched processes' own error
    assert "error: [sft] accelerate launch exited with status 1" in err
