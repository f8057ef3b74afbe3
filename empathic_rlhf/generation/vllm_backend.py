"""The ``vllm`` generation backend: vLLM's offline ``LLM.generate`` on a GPU (``pip install -e '.[gpu]'``).

It feeds vLLM the very token ids the torch backend feeds the model (:func:`.tokens.prompt_token_ids`: the chat
template or the seed's ``<SOC>``/``<EOT>`` format, rendered by our tokenizer) and decodes the returned ids with
the same tokenizer and stop tokens (:func:`.tokens.decode_reply`), so only the engine differs: paged KV cache,
continuous batching, CUDA graphs. ``n`` candidates per context come from one request (``SamplingParams(n=...)``,
the prompt prefilled once), seeded per batch so a run's output depends only on its seed.

vLLM loads weights from a folder. A base model whose embeddings the seed format resized in memory (GPT-2 + the
format's special tokens) is saved once into the cache first, as the CTranslate2 backend does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import EmpathicError
from .config import SamplingConfig
from .tokens import decode_reply, prompt_token_ids, stop_tokens


def vllm_requests(tokenizer, contexts: list[list[dict]]) -> list[dict]:
    """vLLM token prompts (``TokensPrompt`` dicts) for ``contexts``: the same ids as every other backend."""
    return [{"prompt_token_ids": ids} for ids in prompt_token_ids(tokenizer, contexts)]


def vllm_sampling_kwargs(params: SamplingConfig, draws: int, stop_ids: list[int], seed: int) -> dict:
    """``SamplingParams`` keyword arguments for our sampling settings (vLLM: top_k 0 and top_p 1 are off)."""
    sampling = params.temperature > 0
    return {"n": draws, "temperature": params.temperature if sampling else 0.0,
            "top_p": params.top_p if sampling else 1.0, "top_k": params.top_k if sampling else 0,
            "max_tokens": params.max_new_tokens, "min_tokens": params.min_new_tokens,
            "repetition_penalty": params.repetition_penalty, "stop_token_ids": list(stop_ids), "seed": seed,
            "detokenize": False}


def check_gpu_backend() -> None:
    """vLLM is installed and a CUDA device is present; else one clear error line."""
    from ..extras import require

    require("gpu", "backend vllm")
    import torch

    if not torch.cuda.is_available():
        raise EmpathicError("backend vllm needs a CUDA GPU and none is visible (torch.cuda.is_available() is "
                            "False); use backend torch or ctranslate2 on CPU")


def weights_folder(model_dir: str | Path, tokenizer, model=None) -> Path:
    """A folder vLLM can load whose vocabulary matches ``tokenizer``: ``model_dir`` itself, or (when the dialogue
    format added tokens in memory) the resized ``model`` saved once under ``<cache>/vllm/``."""
    import json

    from ..io import atomic_path
    from ..paths import cache_dir
    from ..rundir import fingerprint

    model_dir = Path(model_dir)
    vocab = json.loads((model_dir / "config.json").read_text()).get("vocab_size", 0)
    if vocab >= len(tokenizer):
        return model_dir
    if model is None:
        raise EmpathicError(f"{model_dir}: tokenizer larger than the model; pass the resized model")
    target = cache_dir() / "vllm" / f"{fingerprint(model_dir)}-v{len(tokenizer)}"
    if not (target / "config.json").is_file():
        print(f"saving the resized {model_dir} for vLLM in {target} (first use only)", file=sys.stderr)
        with atomic_path(target) as out:
            model.save_pretrained(out)
            tokenizer.save_pretrained(out)
    return target


class VllmBackend:
    """k replies per context from ``vllm.LLM``; same interface as the other backends."""

    name = "vllm"

    def __init__(self, llm, tokenizer):
        self.llm, self.tokenizer = llm, tokenizer
        self.stop_ids = tokenizer.convert_tokens_to_ids(stop_tokens(tokenizer))
        self.tokens_generated = 0

    @classmethod
    def create(cls, model_dir: str | Path | None, tokenizer, params: SamplingConfig, *, model=None):
        """Check the GPU and the extra, then start the engine on the model's folder (bf16 where the GPU has it)."""
        check_gpu_backend()
        if model_dir is None or not Path(model_dir).is_dir():
            raise EmpathicError("the vllm backend needs a local model folder")
        from vllm import LLM

        from ..runtime import inference_placement

        folder = weights_folder(model_dir, tokenizer, model)
        _, dtype = inference_placement()
        llm = LLM(model=str(folder), tokenizer=str(folder), dtype=dtype,
                  gpu_memory_utilization=params.vllm_gpu_memory_utilization, seed=0)
        return cls(llm, tokenizer)

    def generate(self, contexts: list[list[dict]], n: int, params: SamplingConfig, seed: int) -> list[list[str]]:
        from vllm import SamplingParams

        draws = n if params.temperature > 0 else 1  # greedy: one reply per context, repeated n times
        sampling = SamplingParams(**vllm_sampling_kwargs(params, draws, self.stop_ids, seed))
        outputs = self.llm.generate(vllm_requests(self.tokenizer, contexts), sampling, use_tqdm=False)
        replies = []
        for request in outputs:
            texts = []
            for completion in request.outputs:
                text, drawn = decode_reply(self.tokenizer, list(completion.token_ids), self.stop_ids)
                self.tokens_generated += drawn
                texts.append(text)
            replies.append(texts * (n // draws))
        return replies
