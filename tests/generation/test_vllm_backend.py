"""The vllm backend without vLLM (it is a GPU-only extra): the missing-dependency and no-GPU errors, config
validation, and that it feeds vLLM exactly the prompt ids the torch backend feeds the model."""

import importlib.util
import json
from dataclasses import fields

import pytest

from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.generation.config import SamplingConfig
from empathic_rlhf.generation.sampler import TorchBackend, make_backend
from empathic_rlhf.models.dialogue_format import apply_format
from empathic_rlhf.generation.vllm_backend import vllm_requests, vllm_sampling_kwargs, weights_folder
from empathic_rlhf.run_config import load_run_config

VLLM_INSTALLED = importlib.util.find_spec("vllm") is not None
without_vllm = pytest.mark.skipif(VLLM_INSTALLED, reason="vllm is installed here: its absence cannot be shown")

CONTEXTS = [
    [{"role": "user", "content": "I finally got the job I wanted!"}],
    [{"role": "system", "content": "Emotion: sad."}, {"role": "user", "content": "My dog died last week."},
     {"role": "assistant", "content": "Oh no, I'm sorry."}, {"role": "user", "content": "I miss him a lot."}],
]
CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@pytest.fixture(scope="module")
def tiny(tiny_gpt2_dir):
    from empathic_rlhf.models.loading import load_model_and_tokenizer

    return load_model_and_tokenizer(str(tiny_gpt2_dir))


@without_vllm
@pytest.mark.parametrize("override, setting", [
    ("--sample.backend=vllm", "sample.backend=vllm"),
    ("--evaluate.backend=vllm", "evaluate.backend=vllm"),
    ("--rl.use_vllm=true", r"rl.use_vllm=true \(TRL's vLLM rollouts\)"),
])
def test_a_vllm_setting_fails_at_config_load_naming_the_gpu_extra(override, setting):
    with pytest.raises(EmpathicError, match=rf"^{setting} needs the optional package vllm: "
                                            r"pip install 'empathic-rlhf\[gpu\]'$"):
        load_run_config(overrides=[override])


def test_cpu_backends_stay_the_default_in_every_profile():
    for profile in ("demo", "results", "full"):
        config = load_run_config(profile=profile)
        assert (config.sample.backend, config.evaluate.backend, config.rl.use_vllm) == ("torch", "torch", False)


@without_vllm
def test_building_the_backend_without_vllm_names_the_extra(tiny, tiny_gpt2_dir):
    with pytest.raises(EmpathicError, match=r"backend vllm needs the optional package vllm: .*\[gpu\]"):
        make_backend(SamplingConfig(backend="vllm"), *tiny, tiny_gpt2_dir)


def test_without_a_cuda_device_the_backend_says_so(tiny, tiny_gpt2_dir, monkeypatch):
    import torch

    from empathic_rlhf import extras

    monkeypatch.setitem(extras.EXTRAS, "gpu", "json")  # as if vllm were installed
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(EmpathicError, match=r"backend vllm needs a CUDA GPU and none is visible"):
        make_backend(SamplingConfig(backend="vllm"), *tiny, tiny_gpt2_dir)


def test_vllm_gpu_memory_share_is_validated():
    with pytest.raises(ValueError, match="vllm_gpu_memory_utilization"):
        SamplingConfig(vllm_gpu_memory_utilization=1.5)
    with pytest.raises(EmpathicError, match="vllm_gpu_memory_utilization"):
        load_run_config(overrides=["--rl.vllm_gpu_memory_utilization=1.0"])


@pytest.mark.parametrize("template", ["seed", "chatml"])
def test_vllm_gets_the_same_prompt_ids_as_the_torch_backend(tiny, template):
    model, tokenizer = tiny
    if template == "chatml":
        tokenizer = type(tokenizer).from_pretrained(tokenizer.name_or_path)
        tokenizer.chat_template = CHATML
        apply_format(tokenizer, requested="chat-template")
    batch = TorchBackend(model, tokenizer).encode(CONTEXTS)
    torch_rows = [row[mask.bool()].tolist() for row, mask in zip(batch["input_ids"], batch["attention_mask"])]
    vllm_rows = [request["prompt_token_ids"] for request in vllm_requests(tokenizer, CONTEXTS)]
    assert vllm_rows == torch_rows
    assert len(vllm_rows[0]) < len(vllm_rows[1])  # different lengths: the torch rows really were padded
    text = tokenizer.decode(vllm_rows[1])
    if template == "seed":
        assert text == "<knowledge> Emotion: sad.<SOC> My dog died last week.<SOC> Oh no, I'm sorry.<SOC> I miss him a lot.<SOC>"
    else:
        assert text.startswith("<|im_start|>system\nEmotion: sad.<|im_end|>\n")
        assert text.endswith("I miss him a lot.<|im_end|>\n<|im_start|>assistant\n")


def test_sampling_settings_map_onto_vllm():
    sampled = vllm_sampling_kwargs(SamplingConfig(temperature=0.7, top_p=0.9, top_k=50, max_new_tokens=30,
                                                  min_new_tokens=2, repetition_penalty=1.2), 3, [7, 9], 11)
    assert sampled == {"n": 3, "temperature": 0.7, "top_p": 0.9, "top_k": 50, "max_tokens": 30, "min_tokens": 2,
                       "repetition_penalty": 1.2, "stop_token_ids": [7, 9], "seed": 11, "detokenize": False}
    greedy = vllm_sampling_kwargs(SamplingConfig(temperature=0.0, top_p=0.5, top_k=5), 1, [7], 0)
    assert (greedy["temperature"], greedy["top_p"], greedy["top_k"], greedy["n"]) == (0.0, 1.0, 0, 1)


def test_a_resized_base_model_is_saved_once_for_vllm(tiny, tiny_gpt2_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("EMPATHIC_CACHE_DIR", str(tmp_path / "cache"))
    model, tokenizer = tiny
    assert json.loads((tiny_gpt2_dir / "config.json").read_text())["vocab_size"] < len(tokenizer)
    folder = weights_folder(tiny_gpt2_dir, tokenizer, model)
    assert folder.parent == tmp_path / "cache" / "vllm"
    assert json.loads((folder / "config.json").read_text())["vocab_size"] == len(tokenizer)
    assert weights_folder(tiny_gpt2_dir, tokenizer, model) == folder  # cached
    assert weights_folder(folder, tokenizer) == folder  # a folder that already matches is used as it is
    with pytest.raises(EmpathicError, match="pass the resized model"):
        weights_folder(tiny_gpt2_dir, tokenizer)


def test_rl_vllm_switch_sets_trls_public_colocate_fields(monkeypatch):
    import torch
    from trl import GRPOConfig, RLOOConfig

    from empathic_rlhf import extras
    from empathic_rlhf.rl.config import RlConfig
    from empathic_rlhf.rl.trainer import vllm_rollout_args

    assert vllm_rollout_args(RlConfig()) == {}
    monkeypatch.setitem(extras.EXTRAS, "gpu", "json")  # as if vllm were installed
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    args = vllm_rollout_args(RlConfig(use_vllm=True, vllm_gpu_memory_utilization=0.25))
    assert args == {"use_vllm": True, "vllm_mode": "colocate", "vllm_gpu_memory_utilization": 0.25}
    for trl_class in (RLOOConfig, GRPOConfig):
        assert set(args) <= {f.name for f in fields(trl_class)}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(EmpathicError, match="needs a CUDA GPU"):
        vllm_rollout_args(RlConfig(use_vllm=True))


@without_vllm
def test_chat_with_the_vllm_backend_names_the_extra(tiny_gpt2_dir, capsys):
    from empathic_rlhf.cli import main

    assert main(["chat", str(tiny_gpt2_dir), "--backend=vllm"]) == 2
    assert "backend vllm needs the optional package vllm: pip install 'empathic-rlhf[gpu]'" in capsys.readouterr().err
