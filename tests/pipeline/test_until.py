"""`empathic run --until STAGE` stops after STAGE, also when STAGE is switched off for this config."""

from __future__ import annotations

from empathic_rlhf.pipeline import run as pipeline_run
from empathic_rlhf.pipeline.stages import STAGES
from empathic_rlhf.run_config import RunConfig


def test_until_a_disabled_stage_stops_there(monkeypatch):
    ran = []
    monkeypatch.setattr(pipeline_run, "run_stage", lambda context, stage, **_: ran.append(stage.name) or {})
    monkeypatch.setattr(pipeline_run, "STAGES",
                        tuple(s.__class__(**{**s.__dict__, "enabled": (lambda config, n=s.name: n != "dyme")})
                              for s in STAGES))
    entries = pipeline_run.run_pipeline(RunConfig(), until="dyme")
    assert ran == ["prepare", "sft", "sample", "reward"]  # dyme is off: nothing after it runs
    assert list(entries) == ran
