"""Hard-negative pairs (reward.hard_negatives) on a tiny run: drawn from prepared train contexts only, kept out of
labels, of DPO's and the held-out pairs, counted; the battery of the trained reward model is stored, and evaluate
stores the battery of every score column and the hacking monitors."""

import json

import pytest

from helpers import write_jsonl
from planted import synthetic_conversations

from empathic_rlhf.cli import main

TINY = [
    "--sft.method=full", "--sft.max_steps=2", "--sft.eval_steps=2", "--sft.per_device_train_batch_size=4",
    "--sample.max_contexts=12", "--sample.k=2", "--sample.max_new_tokens=6", "--sample.batch_size=8",
    "--reward.max_steps=3", "--reward.batch_size=4", "--reward.learning_rate=0.001", "--reward.heldout_fraction=0.3",
    "--reward.empathy_probe=0", "--reward.hard_negatives=6", "--reward.battery=4",
    # a reward model on the tiny model's own backbone: the demo profile's MiniLM gave the tiny model's replies one
    # score, so RL had nothing to climb
    "--reward.backbone=policy", "--reward.method=lora",
    "--evaluate.max_samples=3", "--evaluate.max_new_tokens=4", "--evaluate.models=[sft]",
    "--evaluate.bootstrap_resamples=100", "--evaluate.empathy=skip", "--evaluate.judge=skip",
]


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def run(tiny_gpt2_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("negatives")
    data = root / "data"
    write_jsonl(data / "train.jsonl", synthetic_conversations(12, "train"))
    write_jsonl(data / "valid.jsonl", synthetic_conversations(12, "valid", offset=100))
    write_jsonl(data / "test.jsonl", synthetic_conversations(4, "test", offset=200))
    common = ["--runs-dir", str(root / "runs"), "--name", "r", "--data-dir", str(data),
              "--base-model", str(tiny_gpt2_dir), "--profile", "demo"]
    assert main(["run", *common, *TINY, "--until", "reward"]) == 0
    # evaluate reads the run's reward model; it takes only the sections it reads
    assert main(["evaluate", *common, *(a for a in TINY if a.startswith(("--sft.", "--evaluate.")))]) == 0
    return root / "runs" / "r"


def test_hard_negatives_come_from_train_contexts_and_train_the_reward_model_only(run):
    negatives = read_jsonl(run / "reward" / "pairs" / "negatives.jsonl")
    assert 0 < len(negatives) <= 6
    assert all(p["source"].startswith("synthetic-negative:") and p["annotator"] == "synthetic-negative"
               for p in negatives)
    train_conversations = {s["conv_id"] for s in read_jsonl(run / "prepare" / "train.jsonl")}
    held_out = {s["conv_id"] for split in ("valid", "test") for s in read_jsonl(run / "prepare" / f"{split}.jsonl")}
    drawn = {p["task_id"].removeprefix("negative:").rpartition("#")[0] for p in negatives}
    assert drawn <= train_conversations and not drawn & held_out
    # never a label, never in the pairs DPO reads or the held-out pairs the reward model is measured on
    for path in (run / "reward" / "labels.jsonl", run / "reward" / "pairs" / "train.jsonl",
                 run / "reward" / "pairs" / "heldout.jsonl"):
        assert not any("synthetic-negative" in json.dumps(row) for row in read_jsonl(path)), path
    metrics = json.loads((run / "reward" / "metrics.json").read_text())
    assert metrics["counts"]["hard_negatives"] == len(negatives)
    assert metrics["pairs"]["train"] == len(read_jsonl(run / "reward" / "pairs" / "train.jsonl")) + len(negatives)


def test_batteries_and_monitors_are_stored(run):
    metrics = json.loads((run / "reward" / "metrics.json").read_text())
    battery = metrics["battery"]["scorers"]["reward_model"]
    assert metrics["battery"]["n_contexts"] == 4 and {"stock", "parrot", "repeated"} <= set(battery["kinds"])
    table = json.loads((run / "evaluate" / "table.json").read_text())
    assert {"static_reward", "reward_model"} <= set(table["battery"]["scorers"])
    assert table["battery"]["n_contexts"] == 3
    for row in table["rows"]:  # the model and gold
        assert {"stock", "near_copy", "question"} <= set(row["metrics"])
        assert 0.0 <= row["metrics"]["stock"]["mean"] <= 1.0
