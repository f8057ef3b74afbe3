"""One bf16 rule for every stage: bf16 only on a CUDA GPU that supports it, for training and inference alike."""

import re
from pathlib import Path

import pytest

from empathic_rlhf import runtime

PACKAGE = Path(runtime.__file__).parent


@pytest.mark.parametrize("cuda, bf16_supported, training_bf16, placement", [
    (False, False, False, ("cpu", "float32")),
    (True, False, False, ("cuda", "float32")),  # V100, T4: a GPU without bf16
    (True, True, True, ("cuda", "bfloat16")),  # Ampere or newer
])
def test_the_rule(monkeypatch, cuda, bf16_supported, training_bf16, placement):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16_supported)
    args = runtime.device_training_args()
    assert (args["bf16"], args["use_cpu"]) == (training_bf16, not cuda)
    assert "fp16" not in args
    assert runtime.inference_placement() == placement


def test_on_cpu_a_model_is_left_in_fp32_where_it_is(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    model = torch.nn.Linear(2, 2)
    assert runtime.place_for_inference(model) is model and model.weight.dtype == torch.float32


def test_no_stage_decides_precision_itself():
    """bf16/fp16 and the device appear only in runtime.py; each training stage takes device_training_args()."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "runtime.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"\b(bf16|fp16)\s*=|is_bf16_supported|torch\.(bfloat16|float16)\b", text):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []
    for stage in ("sft/train.py", "reward/train.py", "rl/trainer.py", "dpo/train.py"):
        assert "**device_training_args()" in (PACKAGE / stage).read_text(encoding="utf-8"), stage
