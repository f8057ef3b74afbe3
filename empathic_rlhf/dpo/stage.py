"""The ``dpo`` stage: the reward stage's labels -> pairs -> DPO from π -> ``<run>/dpo/model``.

It uses exactly the labels and tasks the reward model was trained on (``<run>/reward/{tasks,labels}.jsonl``)
and the same split by conversation, so its held-out pairs are the reward model's held-out pairs.
"""

from __future__ import annotations

from ..errors import EmpathicError


def inputs(config, run) -> dict[str, str]:
    reward = run.stage_dir("reward")
    return {"reward/tasks": str(reward / "tasks.jsonl"), "reward/labels": str(reward / "labels.jsonl"),
            "sft/model": str(run.stage_dir("sft") / "model")}


def run(config, run) -> dict:
    from ..reward.labels import read_labels
    from ..reward.train import load_tasks, split_pairs
    from .train import train_dpo

    reward = run.stage_dir("reward")
    if not (reward / "labels.jsonl").is_file():
        raise EmpathicError(f"{reward / 'labels.jsonl'}: no labels; run `empathic reward train` first")
    tasks = {t["task_id"]: t for t in load_tasks(reward / "tasks.jsonl")}
    labels = read_labels(reward / "labels.jsonl")
    train, test, _ = split_pairs(tasks, labels, config.reward, list(config.prepare.knowledge))
    metrics = train_dpo(config.dpo, str(run.stage_dir("sft") / "model"), train, test, run.stage_dir("dpo"),
                        seed=config.seed)
    print(f"[dpo] held-out margin {metrics['heldout_before']['margin']} -> {metrics['heldout_after']['margin']}")
    return {"outputs": ["dpo/model", "dpo/metrics.json"],
            "summary": {"pairs": metrics["pairs"], "heldout_margin_after": metrics["heldout_after"]["margin"],
                        "heldout_accuracy_after": metrics["heldout_after"]["accuracy"]}}
