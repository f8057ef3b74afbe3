"""The ``dyme`` stage of ``empathic run``: trains DYME on EmpatheticDialogues into ``<run>/dyme``.

It runs only when a later stage uses it (``dyme`` among ``rl.rewards``); ``empathic dyme train`` runs it alone.
DYME learns from human conversations, not from the policy, so it needs only the data.
"""

from __future__ import annotations

import dataclasses

from ..stage import Context, Stage


def enabled(config) -> bool:
    return "dyme" in config.rl.rewards


def _dyme_config(config):
    return dataclasses.replace(config.dyme, data_dir=config.dyme.data_dir or config.data.data_dir)


def inputs(context: Context) -> dict[str, str]:
    from ..data.sources import resolve

    source = resolve(_dyme_config(context.config).data_dir)
    return {f"data/{split}": str(source.file(split)) for split in ("train", "valid", "test")}


def run(context: Context) -> dict:
    from .train import run_train

    result = run_train(_dyme_config(context.config), context.run.stage_dir("dyme"))
    overall = result.get("table", {}).get("overall", {})
    return {"outputs": ["dyme/model", "dyme/metrics.json"],
            "summary": {"best_epoch": result.get("best_epoch"), "overall_mse": overall, **result["timings"]}}


STAGE = Stage("dyme", ("data", "dyme"), inputs, run, enabled=enabled, command=("dyme", "train"))
