"""The built yardsticks' test numbers are reproduced by one command (`empathic empathy build`).

Runs the real build (EPITOME + all of ED; ~3 minutes on a busy 2-core CPU) into a temporary folder through the
CLI and compares with the numbers reported in docs/empathy.md. Tolerances allow for BLAS rounding across machines
only; a change of the split, the features or the model moves these by far more.
"""

import json

import pytest
from helpers import ED_RECONSTRUCTED, SHARED_DATA, needs_shared

from empathic_rlhf.cli import main

REPORTED_MACRO_F1 = {"er": 0.6777, "ip": 0.5544, "ex": 0.6742}
REPORTED_ACCURACY = {"er": 0.7442, "ip": 0.7843, "ex": 0.9091}
REPORTED_EMOTION = {"context_top1": 0.4242, "context_top5": 0.7658}


@pytest.mark.slow
@needs_shared(SHARED_DATA / "epitome")
@needs_shared(ED_RECONSTRUCTED)
def test_build_command_reproduces_the_reported_numbers(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EMPATHIC_EPITOME_DIR", str(SHARED_DATA / "epitome"))
    monkeypatch.setenv("EMPATHIC_DATA_DIR", str(ED_RECONSTRUCTED))
    assert main(["empathy", "build", "--out", str(tmp_path / "model")]) == 0
    printed = capsys.readouterr().out
    assert "| ER | 649 |" in printed and "| from the context | 5257 |" in printed
    report = json.loads((tmp_path / "model" / "report.json").read_text())
    for mechanism, row in report["mechanisms"]["test"].items():
        assert row["n"] == 649
        assert row["macro_f1"] == pytest.approx(REPORTED_MACRO_F1[mechanism], abs=0.005), mechanism
        assert row["accuracy"] == pytest.approx(REPORTED_ACCURACY[mechanism], abs=0.005), mechanism
    emotion = report["emotion"]["test"]
    assert emotion["n"] == 5257
    for key, value in REPORTED_EMOTION.items():
        assert emotion[key] == pytest.approx(value, abs=0.005), key
