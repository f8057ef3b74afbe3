"""Train the reward model: labels -> pairs (split by conversation) -> TRL ``RewardTrainer`` -> evaluate ->
normalise on π's held-out samples -> save ``<run>/reward/model`` and ``metrics.json``."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace

from ..data.samples import knowledge_text
from ..errors import EmpathicError
from ..io import atomic_path, write_json, write_jsonl
from ..rundir import checkpoints_for, last_checkpoint
from .config import RewardConfig
from .evaluate import evaluate_pairs
from .labels import Label
from .model import RewardModel, load_backbone, reward_input_ids
from .pairs import pairs_from_label, prompt_messages
from .sources import GOLD_SOURCE
from .split import grouped_order, is_heldout


def task_knowledge(task: dict, fields: list[str]) -> str:
    """The knowledge segment π was trained with, rebuilt from the task's emotion and situation."""
    return knowledge_text(SimpleNamespace(emotion=task.get("emotion"), situation=task.get("situation")), fields)


def split_pairs(tasks: dict[str, dict], labels: list[Label], config: RewardConfig,
                knowledge: list[str]) -> tuple[list[dict], list[dict], Counter]:
    counts: Counter = Counter()
    train, test = [], []
    for label in labels:
        task = tasks.get(label.task_id)
        if task is None:
            counts["labels_without_task"] += 1
            continue
        pairs = pairs_from_label(task, label, task_knowledge(task, knowledge), counts)
        (test if is_heldout(task["conv_id"], config.heldout_fraction) else train).extend(pairs)
    return train, test, counts


def tokenized(pairs: list[dict], tokenizer, max_length: int, counts: Counter) -> list[dict]:
    rows = []
    for pair in pairs:
        chosen = reward_input_ids(tokenizer, pair["prompt"], pair["chosen"][0]["content"])
        rejected = reward_input_ids(tokenizer, pair["prompt"], pair["rejected"][0]["content"])
        if max(len(chosen), len(rejected)) > max_length:
            counts["pairs_too_long"] += 1
            continue
        rows.append({"chosen_ids": chosen, "rejected_ids": rejected, "task_id": pair["task_id"]})
    return rows


def trl_args(config: RewardConfig, output_dir: Path, seed: int):
    import torch
    from trl import RewardConfig as TrlRewardConfig

    on_gpu = torch.cuda.is_available()
    return TrlRewardConfig(
        output_dir=str(output_dir), learning_rate=config.learning_rate, num_train_epochs=1,
        max_steps=config.max_steps, per_device_train_batch_size=config.batch_size, max_length=None,
        train_sampling_strategy="sequential",  # our order keeps a task's pairs in one batch
        bf16=on_gpu, gradient_checkpointing=False, use_cpu=not on_gpu, report_to=[], logging_steps=5,
        save_strategy="steps", save_steps=50, save_total_limit=1, seed=seed, dataloader_num_workers=0,
        disable_tqdm=False, remove_unused_columns=False)


def lora_config(config: RewardConfig):
    """LoRA on every linear layer of the backbone; the new scalar head is trained in full."""
    if config.method != "lora":
        return None
    from peft import LoraConfig

    return LoraConfig(task_type="SEQ_CLS", r=config.lora_r, lora_alpha=2 * config.lora_r, lora_dropout=0.0,
                      target_modules="all-linear", modules_to_save=["score"])


def train_reward_model(policy_dir: str, tasks: list[dict], labels: list[Label], config: RewardConfig,
                       out_dir: Path, *, knowledge: list[str] = (), seed: int = 0) -> dict:
    """Train, evaluate, normalise and save; returns the metrics (also written to ``out_dir/metrics.json``)."""
    from datasets import Dataset
    from trl import RewardTrainer

    tasks_by_id = {t["task_id"]: t for t in tasks}
    train_pairs, test_pairs, counts = split_pairs(tasks_by_id, labels, config, list(knowledge))
    if not train_pairs:
        raise EmpathicError(f"no training pairs from {len(labels)} labels ({dict(counts)}): need labels with "
                            "outcome 'best' or edits")
    model, tokenizer = load_backbone(policy_dir)
    rows = tokenized(grouped_order(train_pairs, config.epochs, seed), tokenizer, config.max_length, counts)
    checkpoints = checkpoints_for(out_dir / "checkpoints", {
        "config": asdict(config), "policy": policy_dir, "seed": seed,
        "data": hashlib.sha256(repr([(r["chosen_ids"], r["rejected_ids"]) for r in rows]).encode()).hexdigest()})
    trainer = RewardTrainer(model=model, args=trl_args(config, checkpoints, seed),
                            train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                            peft_config=lora_config(config))
    last = last_checkpoint(checkpoints)
    trainer.train(resume_from_checkpoint=str(last) if last else None)
    model = trainer.model.merge_and_unload() if config.method == "lora" else trainer.model
    model.eval()
    reward_model = RewardModel(model, tokenizer)
    metrics = {"pairs": {"train": len(rows), "test": len(test_pairs)}, "counts": dict(counts),
               "heldout": evaluate_pairs(reward_model, test_pairs, labels),
               "train_log": [h for h in trainer.state.log_history if "loss" in h]}
    if config.normalize:
        metrics["normalization"] = normalize_on_policy_samples(reward_model, tasks, config, list(knowledge))
    with atomic_path(out_dir / "model") as tmp:
        reward_model.save(tmp, metrics.get("normalization"))
    write_json(out_dir / "metrics.json", metrics)
    write_jsonl(out_dir / "heldout_pairs.jsonl", test_pairs)
    return metrics


def normalize_on_policy_samples(reward_model: RewardModel, tasks: list[dict], config: RewardConfig,
                                knowledge: list[str]) -> dict:
    """Gain/bias from π's own samples (not gold, not human edits) on held-out contexts."""
    prompts, replies = [], []
    for task in tasks:
        if not is_heldout(task["conv_id"], config.heldout_fraction):
            continue
        prompt = prompt_messages(task, task_knowledge(task, knowledge))
        for cand in task["candidates"]:
            if cand.get("source") not in (GOLD_SOURCE, "human-edit"):
                prompts.append(prompt)
                replies.append(cand["text"])
    if len(replies) < 2:
        return {"n": len(replies), "skipped": "too few held-out policy samples"}
    stats = reward_model.fit_normalization(prompts, replies)
    return {**stats, "gain": reward_model.gain, "bias": reward_model.bias}


def load_tasks(path: str | Path) -> list[dict]:
    from ..io import read_jsonl

    tasks = []
    for line, task in read_jsonl(path):
        for key in ("task_id", "conv_id", "history", "candidates"):
            if key not in task:
                raise EmpathicError(f"{path}:{line}: task field {key!r} is missing")
        tasks.append(task)
    return tasks

