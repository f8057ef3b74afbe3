"""The ``label`` stage of a later round (``--rounds N``, docs/rounds.md): the round's chosen tasks
(``acquire/tasks.jsonl``) -> labels in ``label/labels.jsonl``.

- ``rounds.labeller: simulated``: simulated annotators label them in the round's own database, exported at once.
- ``rounds.labeller: human``: they are imported into the run's label database and the run stops until an export
  with people's labels of them is in the round's ``label/`` folder.

In the run itself people label through ``empathic label`` (the app), not through a stage.
"""

from __future__ import annotations

from ..errors import WaitingForLabels
from ..records import Label, Task, read_records
from ..stage import Context, InRounds, Stage
from .config import database_url


def inputs(context: Context) -> dict[str, str]:
    run = context.run
    return {"chosen": str(run.stage_dir("acquire") / "tasks.jsonl"),
            "labels": str(run.stage_dir("label") / "labels.jsonl")}


def run(context: Context) -> dict:
    return simulated(context) if context.config.rounds.labeller == "simulated" else human(context)


def simulated(context: Context) -> dict:
    """Simulated annotators label the chosen tasks in the round's own database (built beside, renamed into place:
    a kill leaves nothing half-labelled), exported as ``synthetic:<oracle>`` labels."""
    from ..io import atomic_path
    from .db import Store
    from .export import export
    from .simulate import simulate_labels
    from .tasks import import_tasks

    config, run = context.config, context.run
    rounds = config.rounds
    with atomic_path(run.stage_dir("label")) as tmp:
        tmp.mkdir(parents=True)
        store = Store(f"sqlite:///{tmp / 'label.db'}")
        try:
            imported = import_tasks(store, run.stage_dir("acquire") / "tasks.jsonl", config.label)
            result = simulate_labels(store, config.label, oracle=rounds.oracle, annotators=rounds.annotators,
                                     kappa=rounds.kappa, position_bias=rounds.position_bias,
                                     seed=config.seed + context.number)
            counts = export(store, tmp)
        finally:
            store.close()
    return {"outputs": ["label/labels.jsonl", "label/tasks.jsonl"],
            "summary": {"labeller": "simulated", "imported": imported.added, **counts,
                        "expected_kappa": result.get("expected_kappa"), "agreement": result.get("agreement")}}


def human(context: Context) -> dict:
    """Import the chosen tasks into the run's label database (again: nothing is added twice) and go on once an
    export with labels of them is in the round's ``label/`` folder; else stop and say how to collect them."""
    from .db import Store
    from .tasks import import_tasks

    config, run = context.config, context.run
    chosen_path = run.stage_dir("acquire") / "tasks.jsonl"
    chosen = {t.task_id for t in read_records(chosen_path, Task)}
    store = Store(database_url(config.label, config.run_path))
    try:
        imported = import_tasks(store, chosen_path, config.label)
    finally:
        store.close()
    exported = run.stage_dir("label") / "labels.jsonl"
    if not exported.is_file():
        raise WaitingForLabels(waiting_message(context, len(chosen), imported.added))
    labelled = {label.task_id for label in read_records(exported, Label) if label.source == "human"}
    if not labelled & chosen:
        raise WaitingForLabels(f"{exported} holds no human label of round {context.number}'s {len(chosen)} tasks "
                               "yet; " + waiting_message(context, len(chosen), imported.added))
    return {"outputs": ["label/labels.jsonl"],
            "summary": {"labeller": "human", "chosen": len(chosen), "chosen_labelled": len(labelled & chosen),
                        "imported_now": imported.added}}


def waiting_message(context: Context, chosen: int, added: int) -> str:
    config, run, number = context.config, context.run, context.number
    where = f"--name {config.name} --runs-dir {config.runs_dir}" + (f" --db {config.label.db}"
                                                                    if config.label.db else "")
    return (f"round {number}: waiting for human labels of its {chosen} chosen tasks "
            f"({run.stage_dir('acquire') / 'tasks.jsonl'}; {added} newly imported into "
            f"{database_url(config.label, config.run_path)}). Collect them with the labelling app:\n"
            f"  empathic label invite {where} NAME   (one invite link per new annotator; earlier links still work)\n"
            f"  empathic label serve {where}\n"
            f"  empathic label export {where} --out {run.stage_dir('label')}\n"
            f"then rerun the same command: round {number} goes on from the labels.")


# A stage of every later round only (rounds.labeller decides who labels).
STAGE = Stage("label", ("label",), inputs, run,
              rounds=InRounds(keys=("labeller", "oracle", "annotators", "kappa", "position_bias")))
