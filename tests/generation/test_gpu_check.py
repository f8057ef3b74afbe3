"""The prepared GPU check (benchmarks/gpu/check.py) on a machine without a GPU: --dry-run checks the plan and the
imports in seconds; a real run fails at once with one clear line and exit status 2, writing nothing."""

import json
import subprocess
import sys

import pytest

from helpers import ED_RECONSTRUCTED, GPT2_TOKENIZER, REPO, needs_shared

CHECK = REPO / "benchmarks" / "gpu" / "check.py"


def run_check(*args, timeout=120):
    return subprocess.run([sys.executable, str(CHECK), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO)


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


@needs_shared(ED_RECONSTRUCTED)
@needs_shared(GPT2_TOKENIZER)
def test_dry_run_checks_the_plan_without_a_gpu(tmp_path):
    result = run_check("--dry-run", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    plan = json.loads((tmp_path / "gpu_check_plan.json").read_text())
    assert plan["profile"] == "full" and plan["base_model"] == "gpt2-random"
    assert plan["backends"][:2] == ["torch", "transformers"]
    assert plan["stages_sizes"] == {"sft_steps": 150, "rl_steps": 10, "dpo_steps": 20, "sample_contexts": 200}
    assert all(o.split("=")[0].count(".") == 1 for o in plan["overrides"])  # section.key sizes only
    assert plan["cuda_available"] is cuda_available()


def test_dry_run_names_missing_data(tmp_path):
    result = run_check("--dry-run", "--out", str(tmp_path), "--data-dir", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"gpu check: data not found: {tmp_path / 'nowhere'}/train.jsonl")


@pytest.mark.skipif(cuda_available(), reason="a GPU is present: the check would run")
def test_without_a_gpu_the_check_fails_at_once_naming_the_reason(tmp_path):
    result = run_check("--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip() == ("gpu check: needs a CUDA GPU and none is visible (torch.cuda.is_available() is "
                                     "False); --dry-run checks the plan on any machine")
    assert not (tmp_path / "out").exists()


def load_check_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_check", CHECK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mfu_is_six_params_times_tokens_per_second_over_the_peak(tmp_path):
    check = load_check_module()
    (tmp_path / "sft").mkdir()
    (tmp_path / "sft" / "metrics.json").write_text(json.dumps(
        {"steps": 150, "train_tokens_this_session": 3_000_000, "train_seconds": 30.0, "tokens_per_second": 100_000.0}))
    numbers = check.sft_numbers(tmp_path, n_params=124_000_000, peak_tflops=989.0)
    assert numbers["mfu"] == pytest.approx(6 * 124e6 * 1e5 / 989e12)  # 7.5%
    assert check.sft_numbers(tmp_path, n_params=124_000_000, peak_tflops=None)["mfu"] is None


def test_parameters_are_counted_from_the_saved_weights(tiny_gpt2_dir):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_gpt2_dir, dtype=torch.float32)
    expected = sum(p.numel() for p in model.parameters())  # tied embeddings once
    assert load_check_module().count_parameters(str(tiny_gpt2_dir)) == expected
