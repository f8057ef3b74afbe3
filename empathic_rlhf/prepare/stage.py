"""The ``prepare`` stage of ``empathic run``: the data splits + the base model's tokenizer -> ``<run>/prepare/``."""

from __future__ import annotations

from ..stage import Context, Stage


def inputs(context: Context) -> dict[str, str]:
    """Each split file the stage reads (their fingerprints decide whether it reruns), and the emotion classifier
    when the knowledge segment holds its predictions (a rebuilt classifier can predict otherwise)."""
    from ..data.sources import resolve

    config = context.config
    source = resolve(config.data.data_dir)
    found = {f"data/{split}": str(source.file(split)) for split in config.prepare.splits}
    if "predicted_emotion" in config.prepare.knowledge:
        import os

        from ..empathy.scorer import MODEL_ENV, default_model_dir

        folder = os.environ.get(MODEL_ENV) or default_model_dir()
        found["empathy/emotion"] = str(os.path.join(folder, "emotion.joblib"))
    return found


def run(context: Context) -> dict:
    from .build import format_stats, prepare, read_splits

    config, run = context.config, context.run
    splits = read_splits(config.data, config.prepare)  # bad data fails before the tokenizer (and torch) loads
    from ..models.loading import load_tokenizer

    tokenizer = load_tokenizer(config.model.base_model, config.model.dialogue_format)
    stats = prepare(config.data, config.prepare, tokenizer, run.stage_dir("prepare"), splits)
    print(format_stats(stats))
    return {"outputs": ["prepare/stats.json"] + [f"prepare/{s}" for s in config.prepare.splits],
            "summary": {split: c["samples"] for split, c in stats["splits"].items()}}


STAGE = Stage("prepare", ("data", "model", "prepare"), inputs, run, command=("prepare",))
