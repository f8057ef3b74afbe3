"""Frozen-encoder features of (context, reply): the all-MiniLM-L6-v2 embeddings the toolkit already ships
(:mod:`empathic_rlhf.metrics.encoder`), cached on disk by content hash so rounds and benchmark seeds embed a text
once.

A candidate's feature vector is ``r`` (``features: reply``) or ``[r, sqrt(d) r * c]`` (``features: reply+product``),
with ``r`` the reply's unit embedding, ``c`` the context's and ``d`` = 384. The Bradley-Terry model only ever sees
differences of two candidates of one context, so a context-only term would cancel; ``r * c`` lets the preferred
direction depend on the context. Which one is used is a config choice measured in docs/acquire.md.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..records import Message, history_texts
from .config import FEATURE_KINDS

Embedder = Callable[[list[str]], np.ndarray]  # texts -> [n, d] float32 unit vectors
CONTEXT_TURNS = 3  # the newest turns a context embedding reads (ED contexts are short; MiniLM reads 256 tokens)
CACHE_FILE = "embeddings.npz"


def minilm_embedder(texts: list[str]) -> np.ndarray:
    """The shipped all-MiniLM-L6-v2 (unit-length rows)."""
    from ..metrics.encoder import encode

    return encode(texts)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class CachedEmbedder:
    """An embedder whose vectors are kept in ``<cache_dir>/embeddings.npz`` (key: a hash of the text), so only
    texts never seen before are encoded. The file is rewritten atomically after each batch of new texts."""

    def __init__(self, embed: Embedder, cache_dir: str | os.PathLike | None):
        self.embed = embed
        self.path = Path(cache_dir) / CACHE_FILE if cache_dir is not None else None
        self.table: dict[str, np.ndarray] = {}
        if self.path is not None and self.path.is_file():
            with np.load(self.path) as stored:
                self.table = dict(zip(stored["keys"].tolist(), stored["vectors"]))

    def __call__(self, texts: list[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in self.table))
        if missing:
            vectors = np.asarray(self.embed(missing), dtype=np.float32)
            self.table.update(zip((text_key(t) for t in missing), vectors))
            self._save()
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self.table[k] for k in keys])

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(list(self.table)), vectors=np.stack(list(self.table.values())))
        os.replace(tmp, self.path)  # atomic: a killed run keeps the previous cache


def context_text(prompt: Sequence[Message] | Sequence[dict]) -> str:
    """What a context embedding reads: its newest turns, oldest first, without the knowledge segment."""
    return "\n".join(history_texts(list(prompt))[-CONTEXT_TURNS:])


def candidate_features(reply_vectors: np.ndarray, context_vectors: np.ndarray, kind: str) -> np.ndarray:
    """Feature rows of replies ``[k, d]`` -> ``[k, d]`` or ``[k, 2d]``; ``context_vectors`` is one context ``[d]``
    or one per reply ``[k, d]``."""
    if kind == "reply":
        return reply_vectors
    if kind == "reply+product":  # scaled by sqrt(d) to the reply part's norm, else L2 all but ignores it
        scale = np.sqrt(reply_vectors.shape[1])
        return np.concatenate([reply_vectors, scale * reply_vectors * context_vectors], axis=1)
    raise ValueError(f"unknown feature kind {kind!r} (expected one of {', '.join(FEATURE_KINDS)})")


def embed_contexts_and_replies(embed: Embedder, contexts: list[str], replies: list[list[str]]
                               ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Context vectors ``[n, d]`` and, per context, its replies' vectors ``[k_i, d]`` -- in one encoder call."""
    flat = [r for group in replies for r in group]
    vectors = embed(contexts + flat)
    context_vectors, reply_vectors = vectors[:len(contexts)], vectors[len(contexts):]
    out, start = [], 0
    for group in replies:
        out.append(reply_vectors[start:start + len(group)])
        start += len(group)
    return context_vectors, out
