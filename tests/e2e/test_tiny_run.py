"""The whole loop on a tiny GPT-2 and synthetic conversations: every stage runs, the report has every section."""

import json

import pytest

from helpers import write_jsonl
from planted import synthetic_conversations

from empathic_rlhf.cli import main

TINY = [
    "--sft.method=full", "--sft.max_steps=4", "--sft.eval_steps=2", "--sft.per_device_train_batch_size=4",
    "--sft.learning_rate=0.001", "--sft.logging_steps=1",
    "--sample.max_contexts=16", "--sample.k=2", "--sample.max_new_tokens=6", "--sample.batch_size=8",
    "--reward.max_steps=6", "--reward.batch_size=4", "--reward.learning_rate=0.001", "--reward.heldout_fraction=0.3",
    # a reward model on the tiny model's own backbone: the demo profile's MiniLM gave the tiny model's replies one
    # score, so RL had nothing to climb
    "--reward.backbone=policy", "--reward.method=lora",
    "--reward.hard_negatives=0",
    "--rl.max_steps=2", "--rl.eval_steps=1", "--rl.eval_prompts=2", "--rl.prompts_per_step=2",
    "--rl.num_generations=2", "--rl.max_completion_length=6", "--rl.max_prompts=8",
    "--dpo.max_steps=2", "--dpo.batch_size=4",
    "--evaluate.max_samples=4", "--evaluate.max_new_tokens=6", "--evaluate.models=[base,sft,rl,dpo]",
    "--evaluate.bootstrap_resamples=200", "--evaluate.empathy=skip",
]


@pytest.fixture(scope="module")
def tiny_run(tiny_gpt2_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    data = root / "data"
    write_jsonl(data / "train.jsonl", synthetic_conversations(24, "train"))
    write_jsonl(data / "valid.jsonl", synthetic_conversations(24, "valid", offset=100))
    write_jsonl(data / "test.jsonl", synthetic_conversations(6, "test", offset=200))
    args = ["run", "--runs-dir", str(root / "runs"), "--name", "tiny", "--data-dir", str(data),
            "--base-model", str(tiny_gpt2_dir), "--profile", "demo", *TINY]
    assert main(args) == 0
    return root / "runs" / "tiny", args


def test_every_stage_ran_and_recorded(tiny_run):
    run, _ = tiny_run
    manifest = json.loads((run / "manifest.json").read_text())
    assert list(manifest["stages"]) == ["prepare", "sft", "sample", "reward", "rl", "dpo", "evaluate", "report"]
    for stage in ("sft", "reward", "rl", "dpo"):
        assert (run / stage / "model" / "config.json").is_file(), stage
    table = json.loads((run / "evaluate" / "table.json").read_text())
    assert [r["model"] for r in table["rows"]] == ["base", "sft", "rl", "dpo", "gold"]
    for row in table["rows"]:  # gold replies too
        assert {"reward_model", "static_reward"} <= set(row["metrics"]), row["model"]
        assert row["metrics"]["reward_model"]["n"] == 4
    assert table["baseline"] == "sft" and set(table["vs_baseline"]) == {"base", "rl", "dpo", "gold"}
    assert (run / "reward" / "pairs" / "train.jsonl").is_file() and (run / "reward" / "pairs" / "heldout.jsonl").is_file()


def test_report_renders_every_section(tiny_run):
    run, _ = tiny_run
    html = (run / "report.html").read_text()
    for heading in ("Stages", "Evaluation (test split", "Paired on the same contexts", "Reward model (held-out pairs)",
                    "Plots", "SFT loss", "RL reward per step", "RL KL per step and beta", "Reward vs KL",
                    "Sample dialogues", "Config", "Smoke demo"):
        assert heading in html, heading
    assert html.count("<svg") >= 5 and "<script" not in html


def test_each_report_plot_draws_the_series_it_names(tiny_run):
    """Every named series of the SFT and reward plots has data (the SFT training loss was once never written)."""
    from empathic_rlhf.report.build import plots_section

    html = plots_section(tiny_run[0])
    sft = html.split("<figcaption>SFT loss</figcaption>")[1].split("</figure>")[0]
    assert ">validation loss</text>" in sft and ">training loss</text>" in sft
    assert sft.count("<polyline") == 2 and "no data" not in sft


def test_rerun_skips_everything(tiny_run, capsys):
    _, args = tiny_run
    capsys.readouterr()
    assert main(args) == 0
    err = capsys.readouterr().err
    assert err.count("up to date, skipped") == 8


def test_human_labels_stop_the_run_then_it_goes_on_from_them(tiny_run, tmp_path, capsys):
    """labels: human -> the run stops after sampling with instructions; once labels exist it goes on."""
    import shutil

    run, args = tiny_run
    copy = tmp_path / "runs" / "tiny"
    shutil.copytree(run, copy)
    args = [a if not a.startswith(str(run.parent)) else str(copy.parent) for a in args] + ["--reward.labels=human"]
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "waiting for human labels" in out and "empathic label serve" in out
    tasks = [json.loads(line) for line in (copy / "sample" / "tasks.jsonl").read_text().splitlines()]
    labels = [{"task_id": t["task_id"], "annotator": f"ann{a}", "source": "human", "outcome": "best",
               "best": t["candidates"][a % len(t["candidates"])]["cand_id"]} for t in tasks for a in range(2)]
    write_jsonl(copy / "label" / "labels.jsonl", labels)
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "[prepare] up to date" in err and "[sft] up to date" in err and "[reward] running" in err
    metrics = json.loads((copy / "reward" / "metrics.json").read_text())
    heldout = [json.loads(line) for line in (copy / "reward" / "pairs" / "heldout.jsonl").read_text().splitlines()]
    assert metrics["pairs"]["test"] == len(heldout) > 0
    assert metrics["heldout"]["sources"] == {"human": len(heldout)}
    assert set(metrics["heldout"]["by_agreement"]) <= {"split", "unanimous", "single"}
