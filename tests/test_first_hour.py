"""What the person running the laptop meets in the first hour (issue 24, "The researcher at the laptop"): disk kept to
what resume needs, no repeated library warnings, readable summaries and report, --help that shows the values a
command uses, overrides never saved unused, nothing left behind by a failed command, a run that remembers its data.
Every bad input: one clear line, exit status 2, nothing half-written."""

import json
import time
import warnings

import pytest

from helpers import DARKNESS, FIREWORKS, write_jsonl
from empathic_rlhf.cli import main

TINY_SFT = ["--sft.max_steps=4", "--sft.eval_steps=2", "--sft.per_device_train_batch_size=2", "--sft.logging_steps=1"]


def help_of(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # wrapped help: whitespace collapsed


def one_error_line(capsys) -> str:
    err = [line for line in capsys.readouterr().err.strip().splitlines() if line.strip()]
    assert err and err[-1].startswith("error: ") and not any("Traceback" in line for line in err), err
    return err[-1]


def stage_args(command, tmp_path, data_dir, model_dir, *extra, name="t"):
    return [command, "--runs-dir", str(tmp_path / "runs"), "--name", name, "--data-dir", str(data_dir),
            "--base-model", str(model_dir), *extra]


# ---- disk: a finished training stage keeps its model, not its checkpoints ----

def test_a_finished_training_stage_drops_its_checkpoints(tmp_path, small_data_dir, tiny_gpt2_dir, capsys):
    args = stage_args("sft", tmp_path, small_data_dir, tiny_gpt2_dir, *TINY_SFT)
    assert main(args) == 0
    sft = tmp_path / "runs" / "t" / "sft"
    assert (sft / "model" / "model.safetensors").is_file()
    assert not list(sft.glob("checkpoints/checkpoint-*"))  # weights + optimizer state: only a resume needs them
    capsys.readouterr()
    assert main(args) == 0 and "[sft] up to date, skipped" in capsys.readouterr().err  # still up to date

    kept = stage_args("sft", tmp_path, small_data_dir, tiny_gpt2_dir, *TINY_SFT, "--keep_checkpoints=true",
                      name="kept")
    assert main(kept) == 0
    assert sorted(p.name for p in (tmp_path / "runs" / "kept" / "sft" / "checkpoints").glob("checkpoint-*")) == [
        "checkpoint-2", "checkpoint-4"]


def test_dropping_checkpoints_keeps_what_else_the_trainer_logged_there(tmp_path):
    from empathic_rlhf.rundir import drop_checkpoints

    for path in ("checkpoints/checkpoint-3/optimizer.pt", "checkpoints/checkpoint-6/model.safetensors",
                 "checkpoints/runs/Dec01/events.out.tfevents.1", "model/model.safetensors"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x")
    drop_checkpoints(tmp_path)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == [
        "checkpoints/runs/Dec01/events.out.tfevents.1", "model/model.safetensors"]


# ---- warnings: at their source, or filtered by category and message ----

def test_bleu_counts_log_no_warning_per_sentence(caplog):
    import logging

    import sacrebleu

    from empathic_rlhf.evaluate.reply_metrics import bleu_of, bleu_statistics

    hypotheses = ["I am so sorry to hear that.", "That sounds great!", "Why?"]
    references = ["Sorry to hear that, how are you?", "That is great news!", "What happened then?"]
    with caplog.at_level(logging.WARNING, logger="sacrebleu"):
        statistics = bleu_statistics(hypotheses, references)
    assert caplog.records == []  # sacrebleu logged "enable effective_order" once per sentence
    assert bleu_of(statistics) == pytest.approx(sacrebleu.corpus_bleu(hypotheses, [references]).score)


def test_no_trainer_config_raises_a_future_warning(tmp_path):
    from empathic_rlhf.dpo.train import trl_args as dpo_args
    from empathic_rlhf.reward.train import trl_args as reward_args
    from empathic_rlhf.rl.trainer import trl_config
    from empathic_rlhf.run_config import load_run_config
    from empathic_rlhf.sft.train import _sft_args

    config = load_run_config()
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # TRL's gradient_checkpointing default warned in every stage
        built = [_sft_args(config.sft, tmp_path, 0, resume=False), reward_args(config.reward, tmp_path, 0),
                 dpo_args(config.dpo, tmp_path, 0), trl_config(config.rl, tmp_path, 0)]
    assert [args.gradient_checkpointing for args in built] == [False] * 4  # off, as runtime.py says


def test_the_known_library_warning_is_filtered_by_its_message_only(tiny_gpt2_dir):
    from transformers import AutoModelForCausalLM

    from empathic_rlhf.runtime import configure_cpu_runtime

    model = AutoModelForCausalLM.from_pretrained(tiny_gpt2_dir)
    configure_cpu_runtime()
    with warnings.catch_warnings(record=True) as caught:
        assert model.is_gradient_checkpointing is False  # peft and TRL read this deprecated alias
        warnings.warn("`something_else` is deprecated and will be removed in v6", FutureWarning)
    assert [str(w.message) for w in caught] == ["`something_else` is deprecated and will be removed in v6"]


# ---- readable summaries and report ----

def test_printed_summaries_round_their_floats(tmp_path, monkeypatch, capsys):
    from empathic_rlhf.pipeline import run as pipeline_run

    entry = {"seconds": 1.0, "summary": {"accuracy": 0.48484848484848486, "ci95": [0.3333333333, 0.65], "n": 33}}
    monkeypatch.setattr(pipeline_run, "run_with_needs", lambda *a, **k: entry)
    monkeypatch.setattr(pipeline_run, "run_pipeline", lambda *a, **k: {"reward": entry})
    assert main(["report", "--runs-dir", str(tmp_path)]) == 0
    assert main(["run", "--runs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "0.48484848" not in out and "0.3333333" not in out
    assert '"accuracy": 0.4848' in out and out.count("0.4848") == 2 and '"n": 33' in out


def test_evaluation_text_says_one_reply_per_context():
    from empathic_rlhf.evaluate.table import markdown_table
    from empathic_rlhf.report.render import render

    table = {"split": "test", "n_contexts": 4, "replies_per_context": 1, "decoding": "sampling", "resamples": 10,
             "seed": 0, "rows": [], "vs_baseline": {}, "ed_paper": []}
    assert "4 contexts, 1 reply per context" in markdown_table(table)
    assert "4 contexts, 2 replies per context" in markdown_table({**table, "replies_per_context": 2})
    heading = render("evaluation.html.jinja", table={**table, "baseline": "sft"}, columns=[], charts=[])
    assert "1 reply each" in heading


def test_the_stages_table_shows_warnings_as_text_not_a_python_list(tmp_path):
    from empathic_rlhf.report.build import stages_data
    from empathic_rlhf.report.render import render

    (tmp_path / "manifest.json").write_text(json.dumps({"stages": {"rl": {"seconds": 3.0, "summary": {
        "warnings": ["no checkpoint beat π on the selection prompts by more than its noise: rl/model is π"],
        "kept_step": 0, "none_yet": []}}}}))
    html = render("stages.html.jinja", **stages_data(tmp_path))
    assert "warnings: no checkpoint beat π on the selection prompts" in html
    assert "[&#39;" not in html and "['" not in html and "none_yet: none" in html


def test_where_rl_changed_the_reply_says_when_it_changed_none(tmp_path):
    from empathic_rlhf.report.build import changed_data
    from empathic_rlhf.report.render import render

    same = [{"sample_id": f"s{i}", "prompt": [{"role": "user", "content": "Hi"}], "gold": "Hello",
             "replies": {"sft": "Hello there", "rl": "Hello there "}} for i in range(3)]
    write_jsonl(tmp_path / "evaluate" / "samples.jsonl", same)
    data = changed_data(tmp_path)
    html = render("dialogues.html.jinja", **data)
    assert "None: on all 3 test contexts rl&#39;s first reply is the same as sft&#39;s." in html
    assert "<table" not in html and "The first 0" not in html


# ---- --help: the values a command uses ----

def test_help_shows_the_default_profiles_values_and_where_the_others_differ(capsys):
    sft = help_of(capsys, "sft")
    assert "--sft.method=str (default: 'lora'; with --profile full: 'full')" in sft  # demo trains LoRA
    assert "with the default profile, demo" in sft
    rl = help_of(capsys, "rl")
    assert "--rl.max_steps=int (default: 12; with --profile results: 36, full: 400)" in rl
    assert "--seed=int (default: 0)" in rl  # accepted by every stage command, so listed
    assert "Preset (default: demo): demo (CPU smoke demo), results" in rl


def test_profile_help_names_every_profile(capsys):
    text = help_of(capsys, "run")
    profile = text.split("--profile=str", 1)[1].split("--seed=", 1)[0]
    assert all(f"{name}:" in profile for name in ("demo", "results", "full")), profile


def test_report_help_ends_without_an_empty_heading(capsys):
    text = help_of(capsys, "report")
    assert text.endswith("config keys: none (it reads only what the run directory holds; the options above say "
                         "which run).")


def test_chat_help_shows_its_defaults(capsys):
    text = help_of(capsys, "chat")
    assert "Turns of history the model sees (default: 5)" in text and "(default: 0)" in text


# ---- overrides: never saved unused ----

def test_an_override_of_a_section_the_command_does_not_read_is_an_error(tmp_path, small_data_dir, tiny_gpt2_dir,
                                                                         capsys):
    assert main(stage_args("prepare", tmp_path, small_data_dir, tiny_gpt2_dir, "--rl.max_steps=3")) == 2
    assert one_error_line(capsys) == ("error: empathic prepare does not read the 'rl' config section "
                                      "(--rl.max_steps=3): it reads data, model, prepare")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("stage, overrides", [
    ("rl", ["--sft.max_steps=3", "--prepare.max_length=64", "--seed=2", "--keep_checkpoints=true"]),  # run first
    ("evaluate", ["--rounds.count=2"]),  # which round's policy is the run's last
    ("report", ["--seed=1"]),
])
def test_overrides_of_what_a_command_reads_are_accepted(stage, overrides):
    from empathic_rlhf.pipeline.commands import reject_unread_sections
    from empathic_rlhf.run_config import load_run_config
    from empathic_rlhf.stage_cli import SHARED_SECTIONS

    shown = {"rl": ("rl", *SHARED_SECTIONS), "evaluate": ("evaluate", "model", "data", "rounds"), "report": ()}
    reject_unread_sections(overrides, load_run_config(overrides=overrides), stage, shown[stage])


# ---- a failed command leaves nothing behind ----

def test_a_failed_prepare_leaves_no_run_folder(tmp_path, tiny_gpt2_dir, capsys):
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", [FIREWORKS])
    write_jsonl(data / "valid.jsonl", [{**DARKNESS, "emotion": "glad"}])
    write_jsonl(data / "test.jsonl", [FIREWORKS])
    assert main(stage_args("prepare", tmp_path, data, tiny_gpt2_dir)) == 2
    assert "unknown emotion 'glad'" in one_error_line(capsys)
    assert not (tmp_path / "runs").exists()


def test_label_import_without_sampled_tasks_creates_no_database(tmp_path, capsys):
    assert main(["label", "import", "--runs-dir", str(tmp_path / "runs"), "--name", "x"]) == 2
    assert "the run has no sampled tasks yet (run `empathic sample --name x` first" in one_error_line(capsys)
    assert not (tmp_path / "runs").exists()
    bad = tmp_path / "tasks.jsonl"
    bad.write_text('{"task_id": \n')
    assert main(["label", "import", "--runs-dir", str(tmp_path / "runs"), "--name", "x", str(bad)]) == 2
    assert one_error_line(capsys).endswith("tasks.jsonl:1: bad JSON (expecting value at column 13)")
    assert not (tmp_path / "runs").exists()


def test_a_huge_bad_json_line_fails_fast_in_plain_words(tmp_path, tiny_gpt2_dir, monkeypatch, capsys):
    from empathic_rlhf.models import loading

    def no_tokenizer(*args, **kwargs):
        raise AssertionError("the tokenizer loaded before the data was checked")

    monkeypatch.setattr(loading, "load_tokenizer", no_tokenizer)
    data = tmp_path / "data"
    write_jsonl(data / "valid.jsonl", [DARKNESS])
    write_jsonl(data / "test.jsonl", [FIREWORKS])
    (data / "train.jsonl").write_text(json.dumps(FIREWORKS) + "\n" + '{"conv_id": "' + "x" * 40_000_000)
    start = time.perf_counter()
    assert main(stage_args("prepare", tmp_path, data, tiny_gpt2_dir)) == 2
    assert time.perf_counter() - start < 10
    assert one_error_line(capsys).endswith("train.jsonl:2: bad JSON (unterminated string starting at column 13)")
    assert not (tmp_path / "runs").exists()


# ---- a run remembers its data source ----

def test_a_run_remembers_where_its_data_came_from(tmp_path, small_data_dir, tiny_gpt2_dir, monkeypatch, capsys):
    monkeypatch.setenv("EMPATHIC_CACHE_DIR", str(tmp_path / "empty-cache"))  # a download would be an error here
    monkeypatch.delenv("EMPATHIC_DATA_DIR", raising=False)
    assert main(stage_args("prepare", tmp_path, small_data_dir, tiny_gpt2_dir)) == 0
    capsys.readouterr()
    again = ["prepare", "--runs-dir", str(tmp_path / "runs"), "--name", "t", "--base-model", str(tiny_gpt2_dir)]
    assert main(again) == 0  # no --data-dir: the run's own config.yaml says where its data is
    assert "[prepare] up to date, skipped" in capsys.readouterr().err

    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("EMPATHIC_DATA_DIR", str(other))
    assert main(again) == 0
    err = capsys.readouterr().err
    assert "[prepare] up to date, skipped" in err and f"not $EMPATHIC_DATA_DIR={other}" in err
