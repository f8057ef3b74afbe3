"""The one reply function: k candidate replies for a batch of contexts, shared by ``sample``, ``evaluate``,
``chat`` and the Python API.

    sampler = Sampler.load("runs/demo/sft/model")             # or Sampler(TransformersBackend(model, tok), ...)
    sampler.reply([{"role": "user", "content": "How are you?"}])             # -> "I'm good, how are you?"
    sampler.sample([messages_a, messages_b], k=3, seed=0)                    # -> [[3 replies], [3 replies]]

A context is a list of chat messages (``system`` knowledge segment, then ``user`` / ``assistant`` turns); the
tokenizer's chat template renders it with the generation prompt, so the seed format and chat-template models are
handled alike; every backend feeds the model :func:`.tokens.prompt_token_ids`. Four backends draw the tokens:

- ``torch`` (default): our decoding loop on the transformers model (:mod:`.decoding`), same distribution as
  ``generate``, 1.3-2.8x faster on CPU (prompt prefilled once per context, finished replies leave the batch);
- ``transformers``: ``model.generate`` on a left-padded batch (KV cache on), ``num_return_sequences=k``;
- ``ctranslate2``: the same model converted once (cached) to CTranslate2, int8 by default;
- ``vllm`` (GPU only, ``pip install -e '.[gpu]'``): vLLM's ``LLM.generate`` on the same prompt ids
  (:mod:`.vllm_backend`, docs/gpu.md).

Contexts are batched by length (:func:`length_order`), so a batch is little padding.

Generation stops at the end of the reply (the EOS token of the format, ``<EOT>`` or ``<|im_end|>``, and the
next-turn separator). Exact duplicates (and empty replies) among one context's candidates are re-sampled up to
``max_resample`` rounds. Every batch is seeded from ``(seed, batch index, round)``, so the output depends only on
the seed, the config and the contexts -- not on resuming or on which backend ran before.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import asdict
from pathlib import Path

from .config import SamplingConfig
from .tokens import clean, decode_reply, prompt_token_ids, render_prompts, stop_tokens

def derive_seed(*parts) -> int:
    """A 31-bit seed from any parts, stable across runs and machines."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:4], "big") & 0x7FFFFFFF


def normalise_context(context) -> list[dict]:
    """Accept a string (one user turn), a list of strings (alternating turns, the last one the user's) or messages."""
    if isinstance(context, str):
        return [{"role": "user", "content": context}]
    context = list(context)
    if all(isinstance(t, str) for t in context):
        n = len(context)
        return [{"role": "user" if (n - i) % 2 == 1 else "assistant", "content": t} for i, t in enumerate(context)]
    return context


class TransformersBackend:
    """Batched ``generate``: left padding, KV cache, ``num_return_sequences`` candidates per context."""

    name = "transformers"

    def __init__(self, model, tokenizer):
        self.model, self.tokenizer = model.eval(), tokenizer
        self.stop_ids = tokenizer.convert_tokens_to_ids(stop_tokens(tokenizer))
        self.tokens_generated = 0  # reply tokens drawn so far (up to and including the stop token)

    def generate(self, contexts: list[list[dict]], n: int, params: SamplingConfig, seed: int) -> list[list[str]]:
        import torch

        batch = self.encode(contexts).to(self.model.device)
        draws = n if params.temperature > 0 else 1  # greedy: one reply per context, repeated n times
        with torch.inference_mode():
            rows = self._generate_ids(batch["input_ids"], batch["attention_mask"], draws, params, seed)
        replies = [self._decode(row) for row in rows]
        return [replies[i * draws:(i + 1) * draws] * (n // draws) for i in range(len(contexts))]

    def encode(self, contexts: list[list[dict]]):
        """The prompts as one left-padded batch: the new tokens of every row start at the same column."""
        tok = self.tokenizer
        side, tok.padding_side = tok.padding_side, "left"
        try:
            return tok(render_prompts(tok, contexts), return_tensors="pt", padding=True, add_special_tokens=False)
        finally:
            tok.padding_side = side

    def _generate_ids(self, input_ids, attention_mask, draws: int, params: SamplingConfig, seed: int):
        """New token ids of ``draws`` replies per prompt, context-major."""
        import torch

        sampling = params.temperature > 0
        kwargs = {"do_sample": sampling, "max_new_tokens": params.max_new_tokens,
                  "min_new_tokens": params.min_new_tokens, "num_return_sequences": draws, "use_cache": True,
                  "repetition_penalty": params.repetition_penalty, "eos_token_id": self.stop_ids,
                  "pad_token_id": self.tokenizer.pad_token_id}
        if sampling:
            kwargs.update(temperature=params.temperature, top_p=params.top_p, top_k=params.top_k)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        torch.manual_seed(seed)
        out = self.model.generate(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        return out[:, input_ids.shape[1]:].tolist()

    def _decode(self, ids: list[int]) -> str:
        text, drawn = decode_reply(self.tokenizer, ids, self.stop_ids)
        self.tokens_generated += drawn
        return text


class TorchBackend(TransformersBackend):
    """The same model and sampling as ``transformers``, drawn by our decoding loop (:mod:`.decoding`): the prompt
    prefilled once per context, finished rows dropped, nucleus found among the top tokens: 1.3x (one reply per
    context) to 2.8x (k=3) the tokens/s of ``generate`` on the 2-core CPU (docs/sft.md)."""

    name = "torch"

    def _generate_ids(self, input_ids, attention_mask, draws: int, params: SamplingConfig, seed: int):
        from .decoding import DecodingParams, decode

        knobs = DecodingParams(params.max_new_tokens, params.min_new_tokens, params.temperature, params.top_p,
                               params.top_k, params.repetition_penalty)
        return decode(self.model, input_ids, attention_mask, draws, knobs, self.stop_ids, seed)


class CTranslate2Backend:
    """The same model run by CTranslate2 (converted on first use into the cache, keyed by the model's files)."""

    name = "ctranslate2"

    def __init__(self, model_dir: str | Path, tokenizer, compute_type: str = "int8", *, model=None,
                 device: str = "auto"):
        import ctranslate2

        self.tokenizer, self.compute_type = tokenizer, compute_type
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        path = convert_to_ctranslate2(model_dir, tokenizer, compute_type, model=model)
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        self.generator = ctranslate2.Generator(str(path), device=device, compute_type=compute_type,
                                               intra_threads=threads if device == "cpu" else 0)
        self.stops = stop_tokens(tokenizer)
        self.tokens_generated = 0

    def generate(self, contexts: list[list[dict]], n: int, params: SamplingConfig, seed: int) -> list[list[str]]:
        import ctranslate2

        tok = self.tokenizer
        prompts = [tok.convert_ids_to_tokens(row) for row in prompt_token_ids(tok, contexts)]
        sampling = params.temperature > 0
        draws = n if sampling else 1  # greedy: one reply per context, repeated n times
        ctranslate2.set_random_seed(seed)
        results = self.generator.generate_batch(  # num_hypotheses: the prompt is run once for its n replies
            prompts, max_batch_size=len(prompts), include_prompt_in_result=False, num_hypotheses=draws,
            max_length=params.max_new_tokens, min_length=params.min_new_tokens, end_token=self.stops,
            return_end_token=False, repetition_penalty=params.repetition_penalty,
            sampling_topk=(params.top_k if sampling else 1), sampling_topp=(params.top_p if sampling else 1.0),
            sampling_temperature=(params.temperature if sampling else 1.0))
        replies = []
        for result in results:
            texts = []
            for row in result.sequences_ids:
                self.tokens_generated += min(len(row) + 1, params.max_new_tokens)  # + the stop token when it stopped
                texts.append(clean(tok.decode(row, skip_special_tokens=True)))
            replies.append(texts * (n // draws))
        return replies


def convert_to_ctranslate2(model_dir: str | Path, tokenizer, compute_type: str, *, model=None) -> Path:
    """The CTranslate2 conversion of a model folder, made once and cached under ``<cache>/ctranslate2/``.

    When the tokenizer has more tokens than the saved model (the seed format added special tokens to a base
    model), the in-memory ``model`` -- embeddings already resized -- is saved first and converted instead.
    """
    import json
    import tempfile

    from ..io import atomic_path
    from ..paths import cache_dir
    from ..rundir import fingerprint

    model_dir = Path(model_dir)
    vocab = json.loads((model_dir / "config.json").read_text()).get("vocab_size", 0)
    resized = vocab < len(tokenizer)
    key = f"{fingerprint(model_dir)}-{compute_type}" + (f"-v{len(tokenizer)}" if resized else "")
    target = cache_dir() / "ctranslate2" / key
    if (target / "model.bin").is_file():
        return target
    from ctranslate2.converters import TransformersConverter

    print(f"converting {model_dir} to CTranslate2 ({compute_type}) in {target} (first use only)", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp, atomic_path(target) as out:
        source = model_dir
        if resized:
            if model is None:
                raise ValueError(f"{model_dir}: tokenizer larger than the model; pass the resized model")
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            source = Path(tmp)
        TransformersConverter(str(source), low_cpu_mem_usage=True).convert(str(out), quantization=compute_type)
    return target


class Sampler:
    """k candidate replies per context, in batches, with duplicate re-sampling; see the module docstring."""

    def __init__(self, backend, params: SamplingConfig | None = None):
        self.backend = backend
        self.params = params or SamplingConfig()
        self.resampled = 0  # candidates drawn again because they duplicated another (or were empty)
        self.duplicates_left = 0  # duplicates still there after max_resample rounds

    @classmethod
    def load(cls, name_or_path: str, dialogue_format: str = "auto", params: SamplingConfig | None = None):
        """Load a model (folder, embedded name or Hub id) with the backend ``params.backend`` names."""
        from ..models.loading import load_model_and_tokenizer, resolve_model_path

        params = params or SamplingConfig()
        model, tokenizer = load_model_and_tokenizer(name_or_path, dialogue_format)
        return cls(make_backend(params, model, tokenizer, resolve_model_path(name_or_path)), params)

    @property
    def tokenizer(self):
        return self.backend.tokenizer

    def settings(self) -> dict:
        """The sampling parameters, as recorded in each task."""
        return {k: v for k, v in asdict(self.params).items() if k in asdict(SamplingConfig())}

    def sample(self, contexts: list, k: int = 2, seed: int = 0, max_resample: int = 3,
               progress: bool = False) -> list[list[str]]:
        """k distinct replies (where the model allows) for each context, in batches of ``params.batch_size``
        contexts of similar length; returned in the order of ``contexts``. ``progress``: a bar over batches."""
        from tqdm import tqdm

        contexts = [normalise_context(c) for c in contexts]
        order = length_order(contexts)
        size = self.params.batch_size
        out: list = [None] * len(contexts)
        for index in tqdm(range(0, len(contexts), size), desc="generate", unit="batch", disable=not progress):
            chunk = order[index:index + size]
            replies = self.sample_batch([contexts[i] for i in chunk], k, seed, index // size, max_resample)
            for i, candidates in zip(chunk, replies):
                out[i] = candidates
        return out

    def sample_batch(self, contexts: list[list[dict]], k: int, seed: int, batch_index: int,
                     max_resample: int = 3) -> list[list[str]]:
        """One generation batch (seeded by ``seed`` and ``batch_index``) plus its re-sampling rounds."""
        candidates = self.backend.generate(contexts, k, self.params, derive_seed(seed, batch_index, 0))
        for round_ in range(1, max_resample + 1):
            redo = {i: _duplicate_slots(c) for i, c in enumerate(candidates)}
            redo = {i: slots for i, slots in redo.items() if slots}
            if not redo:
                break
            more = max(len(slots) for slots in redo.values())
            fresh = self.backend.generate([contexts[i] for i in redo], more, self.params,
                                          derive_seed(seed, batch_index, round_))
            for (i, slots), new in zip(redo.items(), fresh):
                for slot, text in zip(slots, new):
                    candidates[i][slot] = text
                    self.resampled += 1
        self.duplicates_left += sum(len(_duplicate_slots(c)) for c in candidates)
        return candidates

    def reply(self, context, seed: int | None = None) -> str:
        """One reply to one context (a string, a list of turns, or chat messages)."""
        import random

        seed = random.randrange(2**31) if seed is None else seed
        return self.backend.generate([normalise_context(context)], 1, self.params, derive_seed(seed, 0, 0))[0][0]


def length_order(contexts: list[list[dict]]) -> list[int]:
    """Context indices from the shortest to the longest text (stable): batches of similar lengths waste less
    left padding in the prompt and wait less for one long reply."""
    return sorted(range(len(contexts)), key=lambda i: sum(len(m["content"]) for m in contexts[i]))


def _duplicate_slots(candidates: list[str]) -> list[int]:
    """Positions of candidates that are empty or repeat an earlier one exactly."""
    seen, slots = set(), []
    for i, text in enumerate(candidates):
        if not text or text in seen:
            slots.append(i)
        seen.add(text)
    return slots


def make_backend(params: SamplingConfig, model, tokenizer, model_dir: str | Path | None = None):
    """The backend ``params.backend`` names, around an already loaded model (moved to the GPU, when there is one,
    for the torch and transformers backends: :func:`~empathic_rlhf.runtime.place_for_inference`)."""
    if params.backend == "vllm":
        from .vllm_backend import VllmBackend

        return VllmBackend.create(model_dir, tokenizer, params, model=model)
    if params.backend == "ctranslate2":
        if model_dir is None or not Path(model_dir).is_dir():
            from ..errors import EmpathicError

            raise EmpathicError("the ctranslate2 backend needs a local model folder to convert")
        from ..extras import require

        require("ct2", "backend ctranslate2")
        return CTranslate2Backend(model_dir, tokenizer, params.ct2_compute_type, model=model)
    from ..runtime import place_for_inference

    model = place_for_inference(model)
    return TorchBackend(model, tokenizer) if params.backend == "torch" else TransformersBackend(model, tokenizer)


def sample_replies(model, tokenizer=None, context="How are you?", k: int = 2, seed: int = 0, **params) -> list[str]:
    """The seed's ``sample_sequence(..., context="How are you?")``: k replies to one context.

    ``model`` is a loaded model (give its ``tokenizer``) or a name/folder to load; ``params`` are
    :class:`SamplingConfig` fields (temperature, top_p, top_k, max_new_tokens, ...).
    """
    config = SamplingConfig(**params)
    if tokenizer is None:
        sampler = Sampler.load(str(model), params=config)
    else:
        sampler = Sampler(make_backend(config, model, tokenizer, getattr(model, "name_or_path", None)), config)
    return sampler.sample([context], k=k, seed=seed)[0]
