"""The ``reward`` stage: comparison tasks + labels -> reward model r in ``<run>/reward/model``.

Labels: ``human`` (``<run>/label/labels.jsonl``, the labelling app's export) when present and ``labels: auto``;
else the configured bootstrap source (``gold-vs-policy`` by default). ``simulated`` takes the export's labels of
simulated annotators (``source: synthetic:<oracle>``, ``empathic label simulate``) for dry runs; ``human`` never
takes them, and refuses an export that holds only simulated labels. The labels actually used are written to
``<run>/reward/labels.jsonl`` (each marked with its source) and the tasks they refer to to
``<run>/reward/tasks.jsonl``, so the stage can be inspected and rerun alone.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..distributed import is_main_process, main_process_only, refuse_sharded_weights
from ..errors import EmpathicError, WaitingForLabels
from ..records import Label, Task, read_records, write_records
from ..stage import Context, InRounds, Stage


def human_labels_path(run) -> Path:
    return run.stage_dir("label") / "labels.jsonl"


def policy_dir(config, run) -> str:
    """π: the SFT model of this run, else the base model (a reward model can start from any causal LM)."""
    sft_model = run.stage_dir("sft") / "model"
    return str(sft_model) if (sft_model / "config.json").is_file() else config.model.base_model


def backbone_of(config, run) -> str:
    """What the reward model starts from: π (``backbone: policy``) or the named encoder."""
    return policy_dir(config, run) if config.reward.backbone == "policy" else config.reward.backbone


def waiting_message(run) -> str:
    tasks = run.stage_dir("sample") / "tasks.jsonl"
    where = f"--name {run.path.name} --runs-dir {run.path.parent}"  # the label commands find this run's database
    return (f"waiting for human labels in {human_labels_path(run)}. Collect them with the labelling app:\n"
            f"  empathic label import {where} {tasks}\n"
            f"  empathic label invite {where} NAME   (one invite link per annotator)\n"
            f"  empathic label serve {where}         (annotators open their links)\n"
            f"  empathic label export {where} --out {human_labels_path(run).parent}\n"
            f"then rerun the same command: it goes on from the labels.")


def inputs(context: Context) -> dict[str, str]:
    config, run, later = context.config, context.run, context.round
    if later is not None:  # the labels so far: the previous round's and this round's new export
        before = later.previous.stage_dir("reward")
        found = {"labels/new": str(run.stage_dir("label") / "labels.jsonl"),
                 "labels/before": str(before / "labels.jsonl"), "tasks/before": str(before / "tasks.jsonl"),
                 "reward/before": str(before / "model")}
        if config.reward.hard_negatives and config.reward.replay_negatives:
            found["prepare/train"] = str(run.stage_dir("prepare") / "train.jsonl")
        return found
    found = {"sample/tasks": str(run.stage_dir("sample") / "tasks.jsonl")}
    if human_labels_path(run).is_file():
        found["label/human"] = str(human_labels_path(run))
    sft_model = run.stage_dir("sft") / "model"
    if sft_model.is_dir():
        found["sft/model"] = str(sft_model)
    if config.reward.init_model:
        found["reward/init_model"] = config.reward.init_model
    if config.reward.hard_negatives:
        found["prepare/train"] = str(run.stage_dir("prepare") / "train.jsonl")
    return found


def human_tasks_path(run) -> Path:
    return run.stage_dir("label") / "tasks.jsonl"


def choose_labels(config, run, tasks: list[Task]) -> tuple[list[Task], list[Label], str]:
    """(tasks, labels, source name) for the configured label source."""
    from ..scorers import column_scorer
    from .sources import gold_vs_policy, synthetic

    source = config.reward.labels
    if source == "auto":
        source = "human" if human_labels_path(run).is_file() else config.reward.bootstrap
    if source in ("human", "simulated"):
        if not human_labels_path(run).is_file():
            if source == "human":
                raise WaitingForLabels(waiting_message(run))
            raise EmpathicError(f"{human_labels_path(run)}: no exported labels; run `empathic label simulate "
                                f"--name {run.path.name} --runs-dir {run.path.parent} --oracle ...` first")
        labelled = read_records(human_tasks_path(run), Task) if human_tasks_path(run).is_file() else []
        known = {t.task_id for t in labelled}
        tasks = labelled + [t for t in tasks if t.task_id not in known]
        return tasks, exported_labels(human_labels_path(run), source), source
    if source == "gold-vs-policy":
        gold_tasks, labels = gold_vs_policy(tasks)
        return gold_tasks, labels, source
    name = source.split(":", 1)[1]
    return tasks, synthetic(tasks, column_scorer(name), name), source


def exported_labels(path: Path, source: str) -> list[Label]:
    """The export's labels of one kind: people's (``human``) or simulated annotators' (``simulated``: one oracle's
    ``synthetic:<oracle>``). The other kind is left out and said so; never are the two pooled."""
    everything = read_records(path, Label)
    human = [label for label in everything if label.source == "human"]
    simulated = [label for label in everything if label.synthetic]
    oracles = sorted({label.source for label in simulated})
    if source == "human":
        if simulated and not human:
            raise EmpathicError(f"{path}: its {len(simulated)} labels are all simulated ({', '.join(oracles)}), none "
                                "human; set reward.labels: simulated to train on them in a dry run")
        if simulated:
            print(f"reward: {len(human)} human labels; {len(simulated)} simulated ones in {path} are left out")
        return human
    if not simulated:
        raise EmpathicError(f"{path}: no simulated labels (source synthetic:<oracle>); run `empathic label simulate`")
    if len(oracles) > 1:
        raise EmpathicError(f"{path}: simulated labels of several oracles ({', '.join(oracles)}); keep one")
    if human:
        print(f"reward: {len(simulated)} simulated labels ({oracles[0]}); {len(human)} human ones are left out")
    return simulated


def run(context: Context) -> dict:
    """Train the reward model on the run's labels (per ``reward.labels``) or, in a later round, on all labels so
    far, warm-started from the previous round's reward model."""
    from .pairs import build_pairs, pairs_dir, write_pairs
    from .train import train_reward_model

    refuse_sharded_weights("reward")
    config, run, later = context.config, context.run, context.round

    @main_process_only  # the stage's data files are written once; every training process gets the same data
    def prepare_data():
        if later is None:
            tasks_path = run.stage_dir("sample") / "tasks.jsonl"
            if not tasks_path.is_file():
                raise EmpathicError(f"{tasks_path}: no comparison tasks; run `empathic sample` first")
            tasks = read_records(tasks_path, Task)[: config.reward.max_tasks]
            tasks, labels, source = choose_labels(config, run, tasks)
            counts_so_far = {}
        else:
            tasks, labels, counts_so_far = later.labels_so_far()
            source = config.rounds.source
        out = run.stage_dir("reward")
        out.mkdir(parents=True, exist_ok=True)
        write_records(out / "tasks.jsonl", tasks)
        write_records(out / "labels.jsonl", labels)
        pairs, counts = build_pairs(tasks, labels, config.reward.heldout_fraction)
        write_pairs(pairs_dir(run), pairs)  # what DPO reads: labels' pairs only, never the hard negatives
        # later rounds replay them (reward.replay_negatives): the warm start alone forgets them
        negatives = training_negatives(config, run) if later is None or config.reward.replay_negatives else []
        if negatives:
            counts["hard_negatives"] = len(negatives)
        return tasks, labels, source, {**pairs, "train": pairs["train"] + negatives}, counts, counts_so_far

    tasks, labels, source, pairs, counts, counts_so_far = prepare_data()
    settings = config.reward
    if later is not None:  # warm start: the previous round's weights and scalar head
        settings = replace(settings, init_model=str(later.previous.stage_dir("reward") / "model"))
    metrics = train_reward_model(backbone_of(config, run), pairs, counts, labels, tasks, settings,
                                 run.stage_dir("reward"), seed=config.seed)
    if settings.battery:
        metrics = main_process_only(add_battery)(config, run, metrics)
    heldout = metrics["heldout"]["overall"]
    summary = {"labels": source, "pairs": metrics["pairs"], "heldout_accuracy": heldout["accuracy"],
               "heldout_accuracy_ci95": heldout["accuracy_ci95"]}
    measured = f"held-out accuracy {heldout['accuracy']} on {heldout['n']} pairs (95% CI {heldout['accuracy_ci95']})"
    if later is None:
        if is_main_process():
            print(f"reward model ({source} labels): {measured}")
        return {"outputs": ["reward/model", "reward/metrics.json", "reward/pairs"], "summary": summary}
    print(f"{context.tag(STAGE)} {counts_so_far['labels']} labels so far ({source}): {measured}")
    return {"outputs": ["reward/model", "reward/metrics.json", "reward/pairs", "reward/labels.jsonl"],
            "summary": {**summary, **{f"labels_{k}": v for k, v in counts_so_far.items()},
                        "warm_start": settings.init_model}}


def training_negatives(config, run) -> list:
    """``reward.hard_negatives`` pairs on prepared train contexts, also written to reward/pairs/negatives.jsonl."""
    from .negatives import FILE, hard_negative_pairs
    from .pairs import pairs_dir

    if not config.reward.hard_negatives:
        return []
    from ..sample.tasks import check_samples_exist, read_samples

    samples = read_samples(check_samples_exist(run.stage_dir("prepare") / "train.jsonl"))
    negatives = hard_negative_pairs(samples, config.reward.hard_negatives, seed=config.seed)
    write_records(pairs_dir(run) / FILE, negatives)
    return negatives


def add_battery(config, run, metrics: dict) -> dict:
    """The robustness battery of the trained reward model on the first ``reward.battery`` prepared test contexts,
    added to metrics.json and printed."""
    from ..battery.run import contexts_from_samples, format_table, predicted_emotions, run_battery
    from ..empathy import yardsticks_ready
    from ..io import write_json
    from ..sample.tasks import check_samples_exist, read_samples
    from ..scorers import load_scorer

    samples = read_samples(check_samples_exist(run.stage_dir("prepare") / "test.jsonl"), config.reward.battery)
    contexts = contexts_from_samples(samples)
    predicted = predicted_emotions(contexts) if yardsticks_ready() else None
    scorer = load_scorer(f"reward_model:{run.stage_dir('reward') / 'model'}")
    metrics = {**metrics, "battery": run_battery(contexts, {"reward_model": scorer}, seed=config.seed,
                                                 predicted_emotions=predicted)}
    write_json(run.stage_dir("reward") / "metrics.json", metrics)
    print(format_table(metrics["battery"]))
    return metrics


def refuse_without_human_labels(context: Context) -> None:
    """``reward.labels: human`` with no export yet stops the run cleanly (:func:`choose_labels`), also before an
    ``accelerate launch`` of the stage."""
    if context.config.reward.labels == "human" and not human_labels_path(context.run).is_file():
        raise WaitingForLabels(waiting_message(context.run))


STAGE = Stage("reward", ("model", "prepare", "reward"), inputs, run, needs=("sample",), trains=True,
              command=("reward", "train"), rounds=InRounds(keys=("labeller", "oracle")),
              before_launch=refuse_without_human_labels)
