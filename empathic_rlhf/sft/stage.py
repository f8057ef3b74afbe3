"""The ``sft`` stage of ``empathic run``: prepared samples -> π in ``<run>/sft/model``."""

from __future__ import annotations

from ..stage import Context, Stage


def inputs(context: Context) -> dict[str, str]:
    config, prepare = context.config, context.run.stage_dir("prepare")
    return {f"prepare/{split}": str(prepare / split) for split in (config.sft.train_split, config.sft.eval_split)}


def run(context: Context) -> dict:
    from .train import train_sft

    config, run = context.config, context.run
    metrics = train_sft(config.sft, config.model, run.stage_dir("prepare"), run.stage_dir("sft"), seed=config.seed)
    summary = {k: metrics[k] for k in ("steps", "train_seconds", "tokens_per_second", "valid_perplexity_before",
                                        "valid_perplexity_after", "best_step")}
    return {"outputs": ["sft/model", "sft/metrics.json"], "summary": summary}


STAGE = Stage("sft", ("model", "sft"), inputs, run, needs=("prepare",), trains=True, command=("sft",))
