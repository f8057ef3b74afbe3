"""Train the reward model: labels -> pairs (split by conversation) -> TRL ``RewardTrainer`` -> evaluate ->
normalise on π's held-out samples -> save ``<run>/reward/model`` and ``metrics.json``."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from ..distributed import main_process_only
from ..errors import EmpathicError
from ..io import atomic_path, write_json
from ..records import GOLD_SOURCE, Label, Pair, Task, as_dicts
from ..rundir import checkpoints_and_resume
from ..splits import in_fraction
from .config import RewardConfig
from .heldout import evaluate_pairs
from .model import RewardModel, load_backbone, load_warm_start, reward_input_ids
from .pairs import grouped_order, split_key


def tokenized(pairs: list[Pair], tokenizer, max_length: int, counts: Counter) -> list[dict]:
    rows = []
    for pair in pairs:
        prompt = as_dicts(pair.prompt)
        chosen = reward_input_ids(tokenizer, prompt, pair.chosen[0].content)
        rejected = reward_input_ids(tokenizer, prompt, pair.rejected[0].content)
        if max(len(chosen), len(rejected)) > max_length:
            counts["pairs_too_long"] += 1
            continue
        rows.append({"chosen_ids": chosen, "rejected_ids": rejected, "task_id": pair.task_id})
    return rows


def trl_args(config: RewardConfig, output_dir: Path, seed: int):
    from trl import RewardConfig as TrlRewardConfig

    from ..runtime import device_training_args, trl_arguments

    return trl_arguments(TrlRewardConfig, "reward", dict(
        output_dir=str(output_dir), learning_rate=config.learning_rate, num_train_epochs=1,
        max_steps=config.max_steps, per_device_train_batch_size=config.batch_size, max_length=None,
        train_sampling_strategy="sequential",  # our order keeps a task's pairs in one batch
        report_to=[], logging_steps=5, save_strategy="steps", save_steps=50, save_total_limit=1, seed=seed,
        disable_tqdm=False, remove_unused_columns=False, **device_training_args()), config.trainer_args)


def lora_config(config: RewardConfig):
    """LoRA on every linear layer of the backbone; the new scalar head is trained in full."""
    if config.method != "lora":
        return None
    from peft import LoraConfig

    head = "score" if config.backbone == "policy" else "classifier"  # causal-LM heads vs BERT-style encoders
    return LoraConfig(task_type="SEQ_CLS", r=config.lora_r, lora_alpha=2 * config.lora_r, lora_dropout=0.0,
                      target_modules="all-linear", modules_to_save=[head])


def train_reward_model(policy_dir: str, pairs: dict[str, list[Pair]], counts: Counter, labels: list[Label],
                       tasks: list[Task], config: RewardConfig, out_dir: Path, *, seed: int = 0) -> dict:
    """Train on ``pairs["train"]``, evaluate on ``pairs["heldout"]``, normalise on π's held-out samples among
    ``tasks`` and save; returns the metrics (also written to ``out_dir/metrics.json``)."""
    from datasets import Dataset
    from trl import RewardTrainer

    train_pairs, test_pairs = pairs["train"], pairs["heldout"]
    counts = Counter(counts)
    if not train_pairs:
        raise EmpathicError(f"no training pairs from {len(labels)} labels ({dict(counts)}): need labels with "
                            "outcome 'best' or edits")
    model, tokenizer = load_warm_start(config.init_model) if config.init_model else load_backbone(policy_dir)
    rows = tokenized(grouped_order(train_pairs, config.epochs, seed), tokenizer, config.max_length, counts)
    # one process clears stale checkpoints and picks the one to resume; every process resumes from it
    checkpoints, last = main_process_only(checkpoints_and_resume)(out_dir / "checkpoints", {
        "config": asdict(config), "policy": policy_dir, "seed": seed,
        "data": hashlib.sha256(repr([(r["chosen_ids"], r["rejected_ids"]) for r in rows]).encode()).hexdigest()})
    trainer = RewardTrainer(model=model, args=trl_args(config, checkpoints, seed),
                            train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                            peft_config=lora_config(config))
    trainer.train(resume_from_checkpoint=str(last) if last else None)
    # evaluated, normalised and saved once, by the main process (its weights equal the others'); all get the metrics
    return main_process_only(_evaluate_and_save)(trainer, tokenizer, rows, test_pairs, labels, tasks, counts, config,
                                                 out_dir, seed)


def _evaluate_and_save(trainer, tokenizer, rows, test_pairs, labels, tasks, counts, config: RewardConfig,
                       out_dir: Path, seed: int) -> dict:
    model = trainer.model.merge_and_unload() if config.method == "lora" else trainer.model
    model.eval()
    reward_model = RewardModel(model, tokenizer)
    metrics = {"pairs": {"train": len(rows), "test": len(test_pairs)}, "counts": dict(counts),
               "heldout": evaluate_pairs(reward_model, test_pairs, labels),
               "train_log": [h for h in trainer.state.log_history if "loss" in h]}
    prompts, replies = heldout_policy_replies(tasks, config)
    if config.normalize:
        metrics["normalization"] = normalize_on_policy_samples(reward_model, prompts, replies)
    if config.empathy_probe:
        from .probe import empathy_agreement

        metrics["empathy_agreement"] = empathy_agreement(reward_model, prompts, replies, limit=config.empathy_probe,
                                                         seed=seed)
    with atomic_path(out_dir / "model") as tmp:
        reward_model.save(tmp, metrics.get("normalization"))
    write_json(out_dir / "metrics.json", metrics)
    return metrics


def heldout_policy_replies(tasks: list[Task], config: RewardConfig) -> tuple[list[list[dict]], list[str]]:
    """π's own samples (not gold replies) on held-out contexts, with their prompts."""
    prompts, replies = [], []
    for task in tasks:
        if not in_fraction(split_key(task), config.heldout_fraction):
            continue
        for cand in task.candidates:
            if cand.source != GOLD_SOURCE:
                prompts.append(as_dicts(task.prompt))
                replies.append(cand.text)
    return prompts, replies


def normalize_on_policy_samples(reward_model: RewardModel, prompts: list[list[dict]], replies: list[str]) -> dict:
    """Gain/bias so that π's held-out samples score mean 0, std 1 (Ziegler et al.)."""
    if len(replies) < 2:
        return {"n": len(replies), "skipped": "too few held-out policy samples"}
    stats = reward_model.fit_normalization(prompts, replies)
    return {**stats, "gain": reward_model.gain, "bias": reward_model.bias}
