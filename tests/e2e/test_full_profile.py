"""The ``full`` profile's code path end to end on a tiny GPT-2 (absolute position embeddings, the seed's
``<SOC>``/``<EOT>`` format) and a slice of the real EmpatheticDialogues: every stage it enables, every artifact.

Only sizes are overridden (steps, numbers of samples, lengths); every setting that picks a code path -- full
fine-tuning, TensorBoard logging, k=4 candidates, gold-vs-policy labels, the policy-backbone reward model, RLOO
with the adaptive KL controller and held-out selection/report, DPO, evaluate of base/sft/rl/dpo -- is the
profile's own. About two minutes on a 2-core CPU."""

import itertools
import json

import pytest

from helpers import ED_RECONSTRUCTED, needs_shared

from empathic_rlhf.cli import main
from empathic_rlhf.run_config import load_run_config

pytestmark = needs_shared(ED_RECONSTRUCTED)

CONVERSATIONS = {"train": 16, "valid": 12, "test": 4}
SIZES = [
    "--prepare.max_length=96",
    "--sft.max_steps=4", "--sft.eval_steps=2", "--sft.logging_steps=1", "--sft.per_device_train_batch_size=4",
    "--sft.per_device_eval_batch_size=4", "--sft.max_eval_samples=8",
    "--sample.max_contexts=8", "--sample.max_new_tokens=6", "--sample.batch_size=8",
    "--reward.max_steps=4", "--reward.batch_size=4",
    "--rl.max_steps=2", "--rl.eval_steps=1", "--rl.eval_prompts=2", "--rl.eval_samples=2", "--rl.report_prompts=2",
    "--rl.normalize_prompts=2", "--rl.prompts_per_step=2", "--rl.num_generations=2", "--rl.max_completion_length=6",
    "--dpo.max_steps=2", "--dpo.batch_size=4",
    "--evaluate.max_samples=4", "--evaluate.max_new_tokens=6", "--evaluate.batch_size=8",
    "--evaluate.eval_batch_size=8", "--evaluate.bootstrap_resamples=200",
]
# The settings that choose code paths: the test checks that the overrides above leave them as the profile has them.
PATH_SETTINGS = {"sft.method": "full", "sft.report_to": ["tensorboard"], "sample.k": 4, "sample.backend": "torch",
                 "reward.backbone": "policy", "reward.labels": "auto", "rl.algorithm": "rloo",
                 "rl.adaptive_kl": True, "rl.normalize_rewards": True, "rl.use_vllm": False,
                 "evaluate.models": ["base", "sft", "rl", "dpo"], "model.dialogue_format": "auto"}


def setting(config, dotted: str):
    section, key = dotted.split(".")
    return getattr(getattr(config, section), key)


@pytest.fixture(scope="module")
def full_run(tiny_gpt2_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("full")
    data = root / "data"
    data.mkdir()
    for split, count in CONVERSATIONS.items():
        with open(ED_RECONSTRUCTED / f"{split}.jsonl", encoding="utf-8") as source:
            (data / f"{split}.jsonl").write_text("".join(itertools.islice(source, count)), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("EMPATHIC_CACHE_DIR", str(root / "cache"))  # nothing built earlier (empathy classifiers) leaks in
    try:
        args = ["run", "--runs-dir", str(root / "runs"), "--name", "full", "--data-dir", str(data),
                "--base-model", str(tiny_gpt2_dir), "--profile", "full", *SIZES]
        assert main(args) == 0
    finally:
        mp.undo()
    return root / "runs" / "full"


def test_size_overrides_leave_every_code_path_setting_as_the_profile_has_it():
    profile = load_run_config(profile="full")
    resized = load_run_config(profile="full", overrides=SIZES)
    for dotted, value in PATH_SETTINGS.items():
        assert setting(profile, dotted) == setting(resized, dotted) == value, dotted
    assert profile.model.base_model == "gpt2"
    assert profile.sample.max_contexts == 3000  # leaves valid contexts for RL's prompts


def test_every_stage_ran_in_order(full_run):
    manifest = json.loads((full_run / "manifest.json").read_text())
    assert list(manifest["stages"]) == ["prepare", "sft", "sample", "reward", "rl", "dpo", "evaluate", "report"]
    assert manifest["stages"]["sft"]["config"]["sft"]["method"] == "full"


def test_prepare_and_sft_keep_the_seed_format_on_an_absolute_position_gpt2(full_run):
    stats = json.loads((full_run / "prepare" / "stats.json").read_text())
    assert {s: stats["splits"][s]["conversations"] for s in CONVERSATIONS} == CONVERSATIONS
    for split in CONVERSATIONS:
        assert (full_run / "prepare" / f"{split}.jsonl").is_file() and (full_run / "prepare" / split).is_dir()
    config = json.loads((full_run / "sft" / "model" / "config.json").read_text())
    assert config["model_type"] == "gpt2" and config["n_positions"] == 512  # learned absolute positions
    tokenizer = json.loads((full_run / "sft" / "model" / "tokenizer.json").read_text())
    added = {t["content"] for t in tokenizer["added_tokens"]}
    assert {"<SOC>", "<EOT>", "<knowledge>"} <= added and config["vocab_size"] == 50257 + 3
    assert "<SOC>" in (full_run / "sft" / "model" / "chat_template.jinja").read_text()
    metrics = json.loads((full_run / "sft" / "metrics.json").read_text())
    assert metrics["steps"] == 4 and len(metrics["evals"]) >= 2
    assert list((full_run / "sft" / "checkpoints" / "runs").glob("*/events.out.tfevents.*"))  # report_to tensorboard


def test_sample_reward_rl_dpo_artifacts(full_run):
    tasks = [json.loads(line) for line in (full_run / "sample" / "tasks.jsonl").read_text().splitlines()]
    assert len(tasks) == 8 and all(len(t["candidates"]) == 4 for t in tasks)
    reward = json.loads((full_run / "reward" / "metrics.json").read_text())
    assert reward["counts"] == {"best": 8, "pairs": 32}  # gold-vs-policy: the gold reply beats each of 4 candidates
    assert reward["pairs"]["train"] + reward["pairs"]["test"] == 32 and reward["pairs"]["test"] > 0
    for name in ("model/config.json", "pairs/train.jsonl", "pairs/heldout.jsonl", "labels.jsonl"):
        assert (full_run / "reward" / name).is_file(), name
    rl = json.loads((full_run / "rl" / "metrics.json").read_text())
    assert rl["algorithm"] == "rloo" and rl["steps"] == 2
    assert [h["step"] for h in rl["heldout"]] == [0, 1, 2]  # pi, then every eval_steps
    assert rl["report"]["n_prompts"] == 2 and set(rl["reward_normalization"]) == {"reward_model"}
    for name in ("model/config.json", "log.jsonl", "heldout.jsonl", "samples.jsonl", "reward_normalization.json"):
        assert (full_run / "rl" / name).is_file(), name
    dpo = json.loads((full_run / "dpo" / "metrics.json").read_text())
    assert dpo["steps"] == 2 and dpo["heldout_after"]["n"] == dpo["pairs"]["test"] > 0
    assert (full_run / "dpo" / "model" / "config.json").is_file()


def test_evaluate_and_report_cover_every_model(full_run):
    table = json.loads((full_run / "evaluate" / "table.json").read_text())
    assert [r["model"] for r in table["rows"]] == ["base", "sft", "rl", "dpo", "gold"]
    for row in table["rows"][:4]:
        assert {"reward_model", "static_reward", "perplexity", "bleu"} <= set(row["metrics"]), row["model"]
        assert row["metrics"]["reward_model"]["n"] == 4
    assert table["baseline"] == "sft" and set(table["vs_baseline"]) == {"base", "rl", "dpo", "gold"}
    for name in ("samples.jsonl", "scores.jsonl", "table.md"):
        assert (full_run / "evaluate" / name).is_file(), name
    html = (full_run / "report.html").read_text()
    for heading in ("Stages", "Evaluation (test split", "Reward model (held-out pairs)", "SFT loss",
                    "RL reward per step", "Sample dialogues", "Config"):
        assert heading in html, heading
