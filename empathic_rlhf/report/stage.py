"""The ``report`` stage: the last step of ``empathic run``. Its inputs are every other stage's metrics, so it is
rebuilt whenever any of them changes."""

from __future__ import annotations

from ..stage import Context, Stage

REPORTED = ("sft/metrics.json", "reward/metrics.json", "rl/metrics.json", "dpo/metrics.json",
            "evaluate/table.json", "dyme/metrics.json", "rounds/summary.json")


def inputs(context: Context) -> dict[str, str]:
    run = context.run
    return {name: str(run.path / name) for name in REPORTED if (run.path / name).is_file()}


def run(context: Context) -> dict:
    from .build import build_report

    path = build_report(context.run.path)
    print(f"report: {path}")
    return {"outputs": ["report.html"], "summary": {"report": str(path)}}


STAGE = Stage("report", (), inputs, run, command=("report",))
