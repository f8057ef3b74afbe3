"""The ``evaluate`` stage of ``empathic run``: base model vs π (and any others) on the test split."""

from __future__ import annotations

from pathlib import Path

from ..stage import Context, Stage


def _models(config, run):
    from .run import resolve_models

    return resolve_models(config.evaluate.models, config.model.base_model, run.path, config.rounds.count)


def needs(config) -> tuple[str, ...]:
    """The prepared test split, and π when it is asked for (rl and dpo models are used when their stages ran)."""
    asked = {entry.partition("=")[2] or entry for entry in config.evaluate.models}
    return ("prepare",) + ("sft",) * ("sft" in asked)


def inputs(context: Context) -> dict[str, str]:
    config, run = context.config, context.run
    found = {"samples": str(run.stage_dir("prepare") / f"{config.evaluate.split}.jsonl")}
    for scorer in ("reward", "dyme"):  # their scores are columns of the table
        if (run.stage_dir(scorer) / "model").is_dir():
            found[f"{scorer}/model"] = str(run.stage_dir(scorer) / "model")
    for label, model in _models(config, run):
        if Path(model).is_dir():
            found[f"model/{label}"] = model
    return found


def run(context: Context) -> dict:
    from ..sample.tasks import check_samples_exist, read_samples
    from .columns import column_groups
    from .run import evaluate_models

    config, run = context.config, context.run
    path = check_samples_exist(run.stage_dir("prepare") / f"{config.evaluate.split}.jsonl")
    samples = read_samples(path, config.evaluate.max_samples)
    out = run.stage_dir("evaluate")
    out.mkdir(parents=True, exist_ok=True)
    table = evaluate_models(config.evaluate, _models(config, run), samples, out,
                            dialogue_format=config.model.dialogue_format, seed=config.seed,
                            groups=column_groups(run.path, config.evaluate.empathy, config.evaluate.judge))
    print((out / "table.md").read_text(encoding="utf-8"))
    keys = ("empathy", "reward_model", "perplexity", "bleu", "distinct_2")
    summary = {row["model"]: {k: round(row["metrics"][k]["mean"], 4) for k in keys
                              if row["metrics"].get(k, {}).get("mean") is not None} for row in table["rows"]}
    return {"outputs": ["evaluate/table.md", "evaluate/table.json", "evaluate/samples.jsonl",
                        "evaluate/scores.jsonl"], "summary": summary}


STAGE = Stage("evaluate", ("model", "evaluate"), inputs, run, needs=needs, command=("evaluate",))
