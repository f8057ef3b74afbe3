"""The ``reward`` stage: comparison tasks + labels -> reward model r in ``<run>/reward/model``.

Labels: ``human`` (``<run>/labels/labels.jsonl``, the labelling app's export) when present and ``labels: auto``;
else the configured bootstrap source (``gold-vs-policy`` by default). The labels actually used are written to
``<run>/reward/labels.jsonl`` (each marked with its source) and the tasks they refer to to
``<run>/reward/tasks.jsonl``, so the stage can be inspected and rerun alone.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import EmpathicError, WaitingForLabels


def human_labels_path(run) -> Path:
    return run.stage_dir("labels") / "labels.jsonl"


def policy_dir(config, run) -> str:
    """π: the SFT model of this run, else the base model (a reward model can start from any causal LM)."""
    sft_model = run.stage_dir("sft") / "model"
    return str(sft_model) if (sft_model / "config.json").is_file() else config.model.base_model


def waiting_message(run) -> str:
    tasks = run.stage_dir("sample") / "tasks.jsonl"
    return (f"waiting for human labels in {human_labels_path(run)}. Collect them with the labelling app:\n"
            f"  empathic label import {tasks}\n"
            f"  empathic label invite NAME        (one invite link per annotator)\n"
            f"  empathic label serve              (annotators open their links)\n"
            f"  empathic label export --out {human_labels_path(run).parent}\n"
            f"then rerun the same command: it goes on from the labels.")


def inputs(config, run) -> dict[str, str]:
    found = {"sample/tasks": str(run.stage_dir("sample") / "tasks.jsonl")}
    if human_labels_path(run).is_file():
        found["labels/human"] = str(human_labels_path(run))
    sft_model = run.stage_dir("sft") / "model"
    if sft_model.is_dir():
        found["sft/model"] = str(sft_model)
    return found


def choose_labels(config, run, tasks: list[dict]) -> tuple[list[dict], list, str]:
    """(tasks, labels, source name) for the configured label source."""
    from ..io import read_jsonl
    from .labels import read_labels
    from .scorers import scorer_named
    from .sources import gold_lookup, gold_vs_policy, synthetic

    source = config.reward.labels
    if source == "auto":
        source = "human" if human_labels_path(run).is_file() else config.reward.bootstrap
    if source == "human":
        if not human_labels_path(run).is_file():
            raise WaitingForLabels(waiting_message(run))
        return tasks, [l for l in read_labels(human_labels_path(run)) if l.source == "human"], source
    if source == "gold-vs-policy":
        samples = [r for path in sorted(run.stage_dir("prepare").glob("*.jsonl")) for _, r in read_jsonl(path)]
        gold_tasks, labels = gold_vs_policy(tasks, gold_lookup(samples))
        return gold_tasks, labels, source
    name = source.split(":", 1)[1]
    return tasks, synthetic(tasks, scorer_named(name), name), source


def run(config, run) -> dict:
    from ..io import write_jsonl
    from .labels import write_labels
    from .train import load_tasks, train_reward_model

    tasks_path = run.stage_dir("sample") / "tasks.jsonl"
    if not tasks_path.is_file():
        raise EmpathicError(f"{tasks_path}: no comparison tasks; run `empathic sample` first")
    tasks = load_tasks(tasks_path)[: config.reward.max_tasks]
    tasks, labels, source = choose_labels(config, run, tasks)
    out = run.stage_dir("reward")
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "tasks.jsonl", tasks)
    write_labels(out / "labels.jsonl", labels)
    metrics = train_reward_model(policy_dir(config, run), tasks, labels, config.reward, out,
                                 knowledge=config.prepare.knowledge, seed=config.seed)
    heldout = metrics["heldout"]["overall"]
    print(f"reward model ({source} labels): held-out accuracy {heldout['accuracy']} on {heldout['n']} pairs")
    return {"outputs": ["reward/model", "reward/metrics.json"],
            "summary": {"labels": source, "pairs": metrics["pairs"], "heldout_accuracy": heldout["accuracy"]}}
