"""SFT on a tiny GPT-2: validation loss falls, weights change, π is a plain HF folder, and training resumes."""

import json
import os
import signal

import pytest
from safetensors.torch import load_file

from empathic_rlhf.cli import main

TINY_SFT = ["--sft.max_steps=6", "--sft.eval_steps=3", "--sft.per_device_train_batch_size=2",
            "--sft.learning_rate=0.01", "--sft.logging_steps=1"]


def run_args(command, tmp_path, data_dir, model_dir, *extra):
    return [command, "--runs-dir", str(tmp_path / "runs"), "--name", "t", "--data-dir", str(data_dir),
            "--base-model", str(model_dir), *TINY_SFT, *extra]


def test_sft_lowers_validation_loss_changes_weights_and_saves_a_plain_model(tmp_path, small_data_dir,
                                                                              tiny_gpt2_dir):
    assert main(run_args("sft", tmp_path, small_data_dir, tiny_gpt2_dir)) == 0
    sft = tmp_path / "runs" / "t" / "sft"
    metrics = json.loads((sft / "metrics.json").read_text())
    assert [e["step"] for e in metrics["evals"]] == [0, 3, 6]
    assert metrics["valid_perplexity_after"] < metrics["valid_perplexity_before"]
    assert metrics["best_step"] == 6 and metrics["tokens_per_second"] > 0

    before, after = load_file(tiny_gpt2_dir / "model.safetensors"), load_file(sft / "model" / "model.safetensors")
    name = "transformer.h.0.attn.c_attn.weight"
    assert not (before[name] == after[name]).all()

    from empathic_rlhf.models.loading import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(str(sft / "model"))  # later stages load π like any folder
    assert tokenizer.eos_token == "<EOT>" and model.config.eos_token_id == tokenizer.eos_token_id
    text = tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}],
                                         tokenize=False)
    assert text == "Hi <SOC> Yo <EOT>"
    manifest = json.loads((tmp_path / "runs" / "t" / "manifest.json").read_text())
    assert manifest["stages"]["sft"]["summary"]["steps"] == 6


def test_lora_is_merged_into_a_plain_model(tmp_path, small_data_dir, tiny_gpt2_dir):
    assert main(run_args("sft", tmp_path, small_data_dir, tiny_gpt2_dir, "--sft.method=lora",
                         "--sft.eval_on_start=false")) == 0
    model_dir = tmp_path / "runs" / "t" / "sft" / "model"
    assert not (model_dir / "adapter_config.json").exists()
    before, after = load_file(tiny_gpt2_dir / "model.safetensors"), load_file(model_dir / "model.safetensors")
    name = "transformer.h.0.attn.c_attn.weight"
    assert name in after and not (before[name] == after[name]).all()


def test_interrupted_training_resumes_from_its_checkpoint(tmp_path, small_data_dir, tiny_gpt2_dir, monkeypatch,
                                                           capsys):
    """Ctrl-C at step 4 saves checkpoint-4 and exits 130; the same command then resumes at step 4, not 0."""
    from transformers import TrainerCallback

    from empathic_rlhf.sft import train

    make_trainer = train._make_trainer

    class CtrlC(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 4:
                os.kill(os.getpid(), signal.SIGINT)

    def interrupted_trainer(*args, **kwargs):
        trainer = make_trainer(*args, **kwargs)
        trainer.add_callback(CtrlC())
        return trainer

    args = run_args("sft", tmp_path, small_data_dir, tiny_gpt2_dir, "--sft.eval_steps=2")
    monkeypatch.setattr(train, "_make_trainer", interrupted_trainer)
    assert main(args) == 130
    sft = tmp_path / "runs" / "t" / "sft"
    assert (sft / "checkpoints" / "checkpoint-4").is_dir() and not (sft / "model").exists()
    capsys.readouterr()

    monkeypatch.setattr(train, "_make_trainer", make_trainer)
    assert main(args) == 0
    assert "resuming from checkpoint-4" in capsys.readouterr().err
    metrics = json.loads((sft / "metrics.json").read_text())
    assert metrics["steps"] == 6
    assert [e["step"] for e in metrics["evals"]] == [0, 2, 4, 6]  # history carried over, step 4 not repeated
    assert metrics["train_tokens_this_session"] < 800  # only steps 5-6 were trained again


def test_changed_config_discards_old_checkpoints(tmp_path, small_data_dir, tiny_gpt2_dir, capsys):
    stamp = tmp_path / "runs" / "t" / "sft" / "checkpoints"
    stamp.mkdir(parents=True)
    (stamp / "checkpoint-99").mkdir()
    (stamp / "checkpoint-99" / "trainer_state.json").write_text("{}")
    (stamp / "run.json").write_text('{"other": "config"}')
    assert main(run_args("sft", tmp_path, small_data_dir, tiny_gpt2_dir, "--sft.eval_on_start=false")) == 0
    assert "discarding old checkpoints" in capsys.readouterr().err
    assert not (stamp / "checkpoint-99").exists()


@pytest.mark.parametrize("bad", ["--sft.method=qlora", "--sft.report_to=[mlflow]"])
def test_bad_sft_config_is_an_error_naming_the_section(tmp_path, small_data_dir, tiny_gpt2_dir, bad, capsys):
    assert main(run_args("sft", tmp_path, small_data_dir, tiny_gpt2_dir, bad)) == 2
    assert "config sft" in capsys.readouterr().err


def test_changed_samples_discard_old_checkpoints_instead_of_resuming_them(tmp_path, small_data_dir, tiny_gpt2_dir,
                                                                         capsys):
    args = run_args("sft", tmp_path, small_data_dir, tiny_gpt2_dir, "--sft.eval_on_start=false",
                    "--keep_checkpoints=true")  # as a kill before the record would leave them
    assert main(args) == 0
    capsys.readouterr()
    assert main(args + ["--prepare.max_history_turns=1"]) == 0  # new samples, same sft config: train afresh
    err = capsys.readouterr().err
    assert "discarding old checkpoints" in err and "resuming" not in err


def test_token_counts_come_from_the_trainers_public_count(tmp_path, small_data_dir, tiny_gpt2_dir):
    """tokens/s and the session's tokens read state.num_input_tokens_seen (non-padding tokens), which equals TRL's
    own logged count (num_tokens); eval_perplexity and tokens_per_second reach the logs the reporters see."""
    assert main(run_args("sft", tmp_path, small_data_dir, tiny_gpt2_dir, "--keep_checkpoints=true")) == 0
    sft = tmp_path / "runs" / "t" / "sft"
    metrics = json.loads((sft / "metrics.json").read_text())
    state = json.loads(max((sft / "checkpoints").glob("checkpoint-*/trainer_state.json"),
                           key=lambda p: int(p.parent.name.rsplit("-", 1)[1])).read_text())
    train_logs = [h for h in state["log_history"] if "loss" in h]
    assert all(h["num_input_tokens_seen"] == h["num_tokens"] for h in train_logs)
    assert metrics["train_tokens_this_session"] == train_logs[-1]["num_tokens"] > 0
    assert all("tokens_per_second" in h for h in train_logs[1:])
    assert all("eval_perplexity" in h for h in state["log_history"] if "eval_loss" in h)
