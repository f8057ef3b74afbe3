import json
import subprocess
import sys


from helpers import ED_RECONSTRUCTED, needs_shared
from empathic_rlhf.cli import main


def prepare_args(tmp_path, data_dir, model_dir, *extra):
    return ["prepare", "--runs-dir", str(tmp_path / "runs"), "--name", "t", "--data-dir", str(data_dir),
            "--base-model", str(model_dir), *extra]


def test_prepare_writes_datasets_jsonl_stats_and_manifest(tmp_path, small_data_dir, tiny_gpt2_dir, capsys):
    assert main(prepare_args(tmp_path, small_data_dir, tiny_gpt2_dir, "--prepare.knowledge=[emotion]")) == 0
    run = tmp_path / "runs" / "t"
    stats = json.loads((run / "prepare" / "stats.json").read_text())
    assert {s: c["samples"] for s, c in stats["splits"].items()} == {"train": 4, "valid": 1, "test": 3}
    lines = (run / "prepare" / "train.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert first["prompt"][0] == {"role": "system", "content": "Emotion: sentimental."}
    from datasets import load_from_disk

    dataset = load_from_disk(str(run / "prepare" / "train"))
    assert dataset.num_rows == 4 and dataset[0]["completion"] == first["completion"]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["stages"]["prepare"]["summary"] == {"train": 4, "valid": 1, "test": 3}
    assert "knowledge:\n  - emotion" in (run / "config.yaml").read_text()


def test_rerun_skips_until_config_or_input_changes(tmp_path, small_data_dir, tiny_gpt2_dir, capsys):
    args = prepare_args(tmp_path, small_data_dir, tiny_gpt2_dir)
    main(args)
    capsys.readouterr()
    main(args)
    assert "up to date, skipped" in capsys.readouterr().err
    main(args + ["--prepare.max_history_turns=2"])
    assert "[prepare] running" in capsys.readouterr().err
    main(args + ["--prepare.max_history_turns=2"])
    assert "skipped" in capsys.readouterr().err
    with open(small_data_dir / "valid.jsonl", "a") as f:  # an input changes: rerun
        f.write("\n")
    main(args + ["--prepare.max_history_turns=2"])
    assert "[prepare] running" in capsys.readouterr().err


def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, small_data_dir, tiny_gpt2_dir, capsys):
    with open(small_data_dir / "test.jsonl", "a") as f:
        f.write('{"conv_id": "x", "emotion": "glad", "prompt": "p", "utterances": [{"text": "hi"}]}\n')
    assert main(prepare_args(tmp_path, small_data_dir, tiny_gpt2_dir)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and "test.jsonl:2: unknown emotion 'glad'" in err[-1]
    assert not (tmp_path / "runs" / "t" / "prepare").exists()
    assert not list((tmp_path / "runs" / "t").glob(".prepare*"))  # no temporary left behind


def test_unknown_override_is_an_error(tmp_path, small_data_dir, tiny_gpt2_dir, capsys):
    assert main(prepare_args(tmp_path, small_data_dir, tiny_gpt2_dir, "--prepare.max_histroy=2")) == 2
    assert "unknown config key 'prepare.max_histroy'" in capsys.readouterr().err


def test_help_is_fast_because_nothing_heavy_is_imported():
    code = ("import sys, empathic_rlhf.cli as c; c.build_parser(); "
            "print(sorted(m for m in ('torch', 'transformers', 'trl', 'datasets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_trl_sft_trainer_accepts_prepared_samples(tmp_path, small_data_dir, tiny_gpt2_dir):
    """The prepared dataset goes into TRL's SFTTrainer as is; loss falls on reply tokens only."""
    main(prepare_args(tmp_path, small_data_dir, tiny_gpt2_dir))
    from datasets import load_from_disk
    from trl import SFTConfig, SFTTrainer

    from empathic_rlhf.models.loading import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(str(tiny_gpt2_dir))
    dataset = load_from_disk(str(tmp_path / "runs" / "t" / "prepare" / "train"))
    args = SFTConfig(output_dir=str(tmp_path / "sft"), max_steps=3, per_device_train_batch_size=2,
                     learning_rate=1e-2, bf16=False, gradient_checkpointing=False, report_to=[], logging_steps=1,
                     save_strategy="no", use_cpu=True, dataloader_num_workers=0)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
    row = trainer.train_dataset[0]
    reply_ids = [label for label in row["labels"] if label != -100]  # TRL folds the completion mask into labels
    assert tokenizer.decode(reply_ids) == " Was this a friend you were in love with, or just a best friend?<EOT>"
    result = trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert result.global_step == 3 and len(losses) == 3 and losses[-1] < losses[0]


@needs_shared(ED_RECONSTRUCTED)
def test_real_data_sample_counts(tmp_path, tiny_gpt2_dir):
    """All of EmpatheticDialogues: listener replies per split, and both roles (the seed's ~64,000)."""
    args = ["prepare", "--runs-dir", str(tmp_path), "--data-dir", str(ED_RECONSTRUCTED), "--profile", "full",
            "--base-model", str(tiny_gpt2_dir)]
    assert main(args + ["--name", "listener"]) == 0
    stats = json.loads((tmp_path / "listener" / "prepare" / "stats.json").read_text())["splits"]
    assert {s: c["samples"] for s, c in stats.items()} == {"train": 40_254, "valid": 5_738, "test": 5_259}
    assert main(args + ["--name", "both", "--prepare.roles=[speaker,listener]", "--prepare.splits=[train]"]) == 0
    stats = json.loads((tmp_path / "both" / "prepare" / "stats.json").read_text())["splits"]
    assert stats["train"]["samples"] == 64_636  # the seed counted 64,615 lines from the original CSV
