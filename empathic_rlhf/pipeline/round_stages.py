"""The stages of one later round (n >= 2), each reading the round before it and writing only its own folder
``<run>/rounds/<n>/<stage>/``:

    sample   the previous round's policy answers fresh contexts (sample.k candidates each): the pool
    acquire  acquire.budget tasks of the pool, chosen by acquire.rule given the labels so far
    label    human: import them into the run's label database and wait for the export; simulated: simulated
             annotators label them in the round's own database, exported at once
    reward   the reward model on all labels so far, warm-started from the previous round's
    rl       RL continues from the previous round's policy, KL still to π, on prompts no round labelled

Each function takes a :class:`~empathic_rlhf.pipeline.rounds.Round` and returns ``{"outputs", "summary"}`` like
every stage; the runner in rounds.py skips those that are up to date.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import EmpathicError, WaitingForLabels
from ..records import Task, read_records, write_records
from ..sample.stage import samples_path
from .round_data import accumulate, fresh_contexts, round_rl_prompts


def sample_inputs(r) -> dict[str, str]:
    found = {"policy": str(r.previous.stage_dir("rl") / "model"),
             "samples": str(samples_path(r.config, r.main)),
             "rl/prompts": str(r.main.stage_dir("prepare") / f"{r.config.rl.prompt_split}.jsonl")}
    found.update({f"pool/round{i}": str(run.stage_dir("sample") / "tasks.jsonl")
                  for i, run in enumerate(r.earlier, start=1)})
    return found


def sample(r) -> dict:
    from ..generation.sampler import Sampler
    from ..sample.tasks import sample_tasks

    config, policy = r.config, str(r.previous.stage_dir("rl") / "model")
    contexts = fresh_contexts(config, r.main, r.earlier, r.number)
    sampler = Sampler.load(policy, config.model.dialogue_format, params=config.sample)
    out = r.here.stage_dir("sample") / "tasks.jsonl"
    source = f"rl-round{r.number - 1}"
    summary = sample_tasks(config.sample, sampler, contexts, out, seed=config.seed, source=source, model=policy,
                           task_prefix=f"{config.name}:round{r.number}:{source}:s{config.seed}")
    tasks = [t.model_copy(update={"round": r.number}) for t in read_records(out, Task)]
    write_records(out, tasks)  # the round each task belongs to travels with it (into the labelling app too)
    return {"outputs": ["sample/tasks.jsonl"], "summary": {**summary, "contexts": len(contexts), "policy": policy}}


def acquire_inputs(r) -> dict[str, str]:
    return {"pool": str(r.here.stage_dir("sample") / "tasks.jsonl"),
            "labels/before": str(r.previous.stage_dir("reward") / "labels.jsonl")}


def acquire(r) -> dict:
    from ..acquire.stage import select_tasks, write_selection
    from ..records import Label, pairs_from_label

    config = r.config
    pool = read_records(r.here.stage_dir("sample") / "tasks.jsonl", Task)
    before = r.previous.stage_dir("reward")
    known = before / "tasks.jsonl"
    tasks = {t.task_id: t for t in read_records(known, Task)} if known.is_file() else {}
    labels = [label for label in read_records(before / "labels.jsonl", Label)
              if label.source == config.rounds.source and label.task_id in tasks]
    pairs = [pair for label in labels for pair in pairs_from_label(tasks[label.task_id], label)]
    # with no labels of the rounds' kind yet, select_tasks asks the gold-vs-policy bootstrap of the pool
    chosen = select_tasks(pool, pairs, config.acquire, seed=config.seed + r.number,
                          cache_dir=r.here.stage_dir("acquire") / "cache")
    if not chosen:
        raise EmpathicError(f"round {r.number}: acquire chose no task from a pool of {len(pool)}")
    summary = write_selection(r.here.stage_dir("acquire"), chosen, config.acquire)
    return {"outputs": ["acquire/tasks.jsonl", "acquire/scores.jsonl"],
            "summary": {**summary, "pool": len(pool), "labelled_pairs": len(pairs)}}


def label_inputs(r) -> dict[str, str]:
    return {"chosen": str(r.here.stage_dir("acquire") / "tasks.jsonl"),
            "labels": str(r.here.stage_dir("label") / "labels.jsonl")}


def label_db_url(config) -> str:
    """The run's label database, as the ``empathic label`` commands find it."""
    return config.label.db or f"sqlite:///{config.run_path / 'label' / 'label.db'}"


def label(r) -> dict:
    return label_simulated(r) if r.config.rounds.labeller == "simulated" else label_human(r)


def label_simulated(r) -> dict:
    """Simulated annotators label the chosen tasks in the round's own database (built beside, renamed into place:
    a kill leaves nothing half-labelled), exported as ``synthetic:<oracle>`` labels."""
    from ..io import atomic_path
    from ..label.db import Store
    from ..label.export import export
    from ..label.simulate import simulate_labels
    from ..label.tasks import import_tasks

    config, rounds = r.config, r.config.rounds
    with atomic_path(r.here.stage_dir("label")) as tmp:
        tmp.mkdir(parents=True)
        store = Store(f"sqlite:///{tmp / 'label.db'}")
        try:
            imported = import_tasks(store, r.here.stage_dir("acquire") / "tasks.jsonl", config.label)
            simulated = simulate_labels(store, config.label, oracle=rounds.oracle, annotators=rounds.annotators,
                                        kappa=rounds.kappa, position_bias=rounds.position_bias,
                                        seed=config.seed + r.number)
            counts = export(store, tmp)
        finally:
            store.close()
    return {"outputs": ["label/labels.jsonl", "label/tasks.jsonl"],
            "summary": {"labeller": "simulated", "imported": imported.added, **counts,
                        "expected_kappa": simulated.get("expected_kappa"),
                        "agreement": simulated.get("agreement")}}


def label_human(r) -> dict:
    """Import the chosen tasks into the run's label database (again: nothing is added twice) and go on once an
    export with labels of them is in ``<run>/rounds/<n>/label/``; else stop and say how to collect them."""
    from ..label.db import Store
    from ..label.tasks import import_tasks
    from ..records import Label

    config = r.config
    chosen_path = r.here.stage_dir("acquire") / "tasks.jsonl"
    chosen = {t.task_id for t in read_records(chosen_path, Task)}
    store = Store(label_db_url(config))
    try:
        imported = import_tasks(store, chosen_path, config.label)
    finally:
        store.close()
    exported = r.here.stage_dir("label") / "labels.jsonl"
    if not exported.is_file():
        raise WaitingForLabels(waiting_message(r, len(chosen), imported.added))
    labelled = {label.task_id for label in read_records(exported, Label) if label.source == "human"}
    if not labelled & chosen:
        raise WaitingForLabels(f"{exported} holds no human label of round {r.number}'s {len(chosen)} tasks yet; "
                               + waiting_message(r, len(chosen), imported.added))
    return {"outputs": ["label/labels.jsonl"],
            "summary": {"labeller": "human", "chosen": len(chosen), "chosen_labelled": len(labelled & chosen),
                        "imported_now": imported.added}}


def waiting_message(r, chosen: int, added: int) -> str:
    config = r.config
    where = f"--name {config.name} --runs-dir {config.runs_dir}" + (f" --db {config.label.db}"
                                                                    if config.label.db else "")
    out = r.here.stage_dir("label")
    return (f"round {r.number}: waiting for human labels of its {chosen} chosen tasks "
            f"({r.here.stage_dir('acquire') / 'tasks.jsonl'}; {added} newly imported into {label_db_url(config)}). "
            f"Collect them with the labelling app:\n"
            f"  empathic label invite {where} NAME   (one invite link per new annotator; earlier links still work)\n"
            f"  empathic label serve {where}\n"
            f"  empathic label export {where} --out {out}\n"
            f"then rerun the same command: round {r.number} goes on from the labels.")


def reward_inputs(r) -> dict[str, str]:
    before = r.previous.stage_dir("reward")
    return {"labels/new": str(r.here.stage_dir("label") / "labels.jsonl"),
            "labels/before": str(before / "labels.jsonl"), "tasks/before": str(before / "tasks.jsonl"),
            "reward/before": str(before / "model")}


def reward(r) -> dict:
    from ..reward.pairs import build_pairs, write_pairs
    from ..reward.stage import backbone_of
    from ..reward.train import train_reward_model

    config = r.config
    tasks, labels, counts = accumulate(r.previous.stage_dir("reward"), r.here.stage_dir("label"),
                                       config.rounds.source)
    out = r.here.stage_dir("reward")
    out.mkdir(parents=True, exist_ok=True)
    write_records(out / "tasks.jsonl", tasks)
    write_records(out / "labels.jsonl", labels)
    pairs, pair_counts = build_pairs(tasks, labels, config.reward.heldout_fraction)
    write_pairs(out / "pairs", pairs)
    warm = replace(config.reward, init_model=str(r.previous.stage_dir("reward") / "model"))
    metrics = train_reward_model(backbone_of(config, r.main), pairs, pair_counts, labels, tasks, warm, out,
                                 seed=config.seed)
    heldout = metrics["heldout"]["overall"]
    print(f"[round {r.number} reward] {counts['labels']} labels so far ({config.rounds.source}): held-out accuracy "
          f"{heldout['accuracy']} on {heldout['n']} pairs (95% CI {heldout['accuracy_ci95']})")
    return {"outputs": ["reward/model", "reward/metrics.json", "reward/pairs", "reward/labels.jsonl"],
            "summary": {"labels": config.rounds.source, **{f"labels_{k}": v for k, v in counts.items()},
                        "warm_start": warm.init_model, "pairs": metrics["pairs"],
                        "heldout_accuracy": heldout["accuracy"], "heldout_accuracy_ci95": heldout["accuracy_ci95"]}}


def rl_inputs(r) -> dict[str, str]:
    found = {"policy/before": str(r.previous.stage_dir("rl") / "model"),
             "reward/model": str(r.here.stage_dir("reward") / "model"),
             "sft/model": str(r.main.stage_dir("sft") / "model"),
             "prepare/prompts": str(r.main.stage_dir("prepare") / f"{r.config.rl.prompt_split}.jsonl")}
    found.update({f"pool/round{i}": str(run.stage_dir("sample") / "tasks.jsonl")
                  for i, run in enumerate([*r.earlier, r.here], start=1)})
    return found


def rl(r) -> dict:
    from ..rl.stage import train_and_summarise

    pi = r.main.stage_dir("sft") / "model"
    if not (pi / "config.json").is_file():
        raise EmpathicError(f"{pi}: no SFT policy (π); run `empathic sft` first")
    config = replace(r.config, rl=replace(r.config.rl, init_policy=str(r.previous.stage_dir("rl") / "model")))
    prompts = round_rl_prompts(config, r.main, [*r.earlier, r.here])
    return train_and_summarise(config, r.here, str(pi), prompts)
