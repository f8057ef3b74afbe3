"""Resolve ``--base-model`` and load a causal LM + tokenizer ready for dialogue.

``--base-model`` may be:
  1. an embedded name (``smollm2-135m``, ``tiny-gpt2``): built or fetched once into the cache;
  2. a local folder in Hugging Face format (a checkpoint of ours, or any downloaded model);
  3. a Hugging Face Hub id (``gpt2``, ``gpt2-medium``, ...): the local HF cache first, then the Hub when it is
     reachable, else a clear offline error at once (no minute of retries).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from ..errors import EmpathicError
from .embedded import EMBEDDED, ensure_embedded

HUB_HOST = "huggingface.co"


def resolve_model_path(name_or_path: str) -> str:
    """Return a local folder (embedded or given) or a Hub id that is cached or reachable; else raise."""
    if name_or_path in EMBEDDED:
        return str(ensure_embedded(name_or_path))
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise EmpathicError(f"{path}: not a Hugging Face model folder (no config.json)")
        return str(path)
    if path.exists() or name_or_path.startswith((".", "/", "~")):
        raise EmpathicError(f"{name_or_path}: model folder not found")
    cached = _hf_cache_folder(name_or_path)
    if cached is not None:
        return cached  # a local folder: loading it never touches the network
    if _hub_reachable():
        return name_or_path
    raise EmpathicError(
        f"model {name_or_path!r} is not in the local Hugging Face cache and the Hub ({HUB_HOST}) is unreachable; "
        f"pass a local model folder or an embedded name ({', '.join(EMBEDDED)}) instead")


def load_tokenizer(name_or_path: str, dialogue_format: str = "auto"):
    """The tokenizer of a base model, with its dialogue format applied."""
    from transformers import AutoTokenizer

    from .dialogue_format import apply_format

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(name_or_path))
    apply_format(tokenizer, requested=dialogue_format)
    return tokenizer


def load_model_and_tokenizer(name_or_path: str, dialogue_format: str = "auto", *, dtype: str = "float32"):
    """Load a causal LM and its tokenizer, dialogue format applied and embeddings resized to match."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .dialogue_format import apply_format

    local = resolve_model_path(name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(local)
    model = AutoModelForCausalLM.from_pretrained(local, dtype=getattr(torch, dtype))
    apply_format(tokenizer, model, requested=dialogue_format)
    return model, tokenizer


def _hf_cache_folder(repo_id: str) -> str | None:
    """The snapshot folder of ``repo_id`` in the local Hugging Face cache, if it is complete enough to load."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        folder = snapshot_download(repo_id, local_files_only=True)
    except (LocalEntryNotFoundError, HFValidationError, OSError):
        return None
    return folder if (Path(folder) / "config.json").is_file() else None


def _hub_reachable(timeout: float = 3.0) -> bool:
    """One quick TCP connect, so an offline machine fails in seconds instead of after a minute of retries."""
    if os.environ.get("HF_HUB_OFFLINE") in ("1", "true", "True"):
        return False
    try:
        with socket.create_connection((HUB_HOST, 443), timeout=timeout):
            return True
    except OSError:
        return False
