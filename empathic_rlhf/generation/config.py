"""How one reply is drawn: the decoding settings shared by ``sample``, ``evaluate`` and ``chat``."""

from __future__ import annotations

from dataclasses import dataclass, field

BACKENDS = ("torch", "transformers", "ctranslate2", "vllm")


@dataclass
class SamplingConfig:
    """How one reply is drawn. Shared by ``sample``, ``evaluate`` (its own section) and ``chat``."""

    temperature: float = field(default=0.7, metadata={
        "help": "Softmax temperature; 0 means greedy decoding. 0.7 with top_p 0.9 is what GPT-2 used on ED."})
    top_p: float = field(default=0.9, metadata={"help": "Nucleus sampling: keep the smallest set of tokens "
                                                        "whose probability reaches top_p (1: off)."})
    top_k: int = field(default=0, metadata={"help": "Keep only the k most likely tokens (0: off)."})
    max_new_tokens: int = field(default=40, metadata={"help": "Longest reply, in tokens."})
    min_new_tokens: int = field(default=1, metadata={"help": "Shortest reply, in tokens (end-of-reply blocked)."})
    repetition_penalty: float = field(default=1.0, metadata={
        "help": "Penalty on tokens already in the sequence (1: off; CTRL used 1.2)."})
    backend: str = field(default="torch", metadata={
        "help": "torch (our decoding loop on the transformers model: prompt prefilled once per context, finished "
                "replies leave the batch; 1.3-2.8x generate on CPU, same distribution), transformers "
                "(model.generate, the reference), ctranslate2 (converted once and cached, int8 by default) or vllm "
                "(GPU only, pip install -e '.[gpu]'; paged KV cache, continuous batching: docs/gpu.md)."})
    ct2_compute_type: str = field(default="int8", metadata={
        "help": "CTranslate2 weights/compute type: int8, int8_float32, float32 (GPU: float16, int8_float16)."})
    vllm_gpu_memory_utilization: float = field(default=0.5, metadata={
        "help": "backend=vllm: share of the GPU's memory vLLM reserves for weights + KV cache (the rest stays for "
                "the transformers model that scores perplexity in evaluate)."})
    batch_size: int = field(default=32, metadata={
        "help": "Contexts per generation batch (each brings its k candidates: batch_size * k sequences)."})

    def __post_init__(self):
        if self.temperature < 0 or not 0 < self.top_p <= 1 or self.top_k < 0:
            raise ValueError("need temperature >= 0, 0 < top_p <= 1, top_k >= 0")
        if self.max_new_tokens < 1 or not 0 <= self.min_new_tokens <= self.max_new_tokens:
            raise ValueError("need max_new_tokens >= 1 and 0 <= min_new_tokens <= max_new_tokens")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {list(BACKENDS)}, got {self.backend!r}")
        if not 0 < self.vllm_gpu_memory_utilization <= 1:
            raise ValueError("need 0 < vllm_gpu_memory_utilization <= 1")
        if self.batch_size < 1 or self.repetition_penalty <= 0:
            raise ValueError("need batch_size >= 1 and repetition_penalty > 0")
