"""DYME's data: conversations of EmpatheticDialogues -> utterance embeddings and metric vectors (both cached).

Each utterance is embedded once and measured once; the features of every prediction position are then cut from
these per-conversation tables (see ``features.py``), so the expensive encoder runs ~107k times, not once per
(history, position).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ..errors import EmpathicError
from ..paths import DATA_DIR_ENV, cache_dir, data_dir_setting

SPLIT_FILE = "{split}.jsonl"


def find_split_file(data_dir: str | None, split: str) -> Path:
    """The conversation JSONL of ``split`` under the data directory (``--data-dir`` or ``$EMPATHIC_DATA_DIR``).

    Accepts the folder holding ``train.jsonl`` itself, or the ``empatheticdialogues`` folder above
    ``reconstructed/``, or the data folder above that.
    """
    root = data_dir_setting(data_dir)
    if root is None:
        raise EmpathicError(f"no data directory: pass --data-dir or set {DATA_DIR_ENV} to the folder with "
                            f"the conversation JSONL files ({SPLIT_FILE.format(split=split)})")
    name = SPLIT_FILE.format(split=split)
    for candidate in (Path(root), Path(root) / "reconstructed", Path(root) / "empatheticdialogues" / "reconstructed"):
        if (candidate / name).is_file():
            return candidate / name
    raise EmpathicError(f"{root}: no {name} here nor under reconstructed/ (set --data-dir / {DATA_DIR_ENV})")


def load_split(data_dir: str | None, split: str, limit: int | None = None) -> list[list[str]]:
    """Utterance texts of each conversation of ``split``, in file order (``limit`` keeps the first ones)."""
    from ..data.ed_jsonl import read_conversations_jsonl

    conversations = []
    for conversation in read_conversations_jsonl(find_split_file(data_dir, split), split):
        conversations.append([turn.text for turn in conversation.turns])
        if limit is not None and len(conversations) >= limit:
            break
    return conversations


def embedding_cache_dir() -> Path:
    """Shared, content-addressed embedding cache: the same texts give the same file names, whatever the run."""
    return cache_dir() / "embeddings" / "all-MiniLM-L6-v2"


def embed_conversations(conversations: list[list[str]], *, batch_size: int = 64, progress: bool = True,
                        cache: bool = True) -> list[np.ndarray]:
    """Unit embedding of every utterance, one ``[T, 384]`` array per conversation."""
    from ..metrics.encoder import encode

    flat = [text for conversation in conversations for text in conversation]
    vectors = encode(flat, batch_size=batch_size, cache_dir=embedding_cache_dir() if cache else None,
                     progress=progress)
    return _split_rows(vectors, conversations)


def measure_conversations(conversations: list[list[str]], embeddings: list[np.ndarray], *,
                          cache: bool = True, progress: bool = True) -> list[np.ndarray]:
    """Metric vectors (``METRIC_NAMES`` order) of every utterance, one ``[T, K]`` array per conversation."""
    from tqdm.auto import tqdm

    from ..metrics.vector import METRIC_NAMES, conversation_vectors

    key = hashlib.sha256("\x01".join(["v1", *METRIC_NAMES, *("\x00".join(c) for c in conversations)]).encode())
    path = cache_dir() / "dyme-metrics" / f"{key.hexdigest()[:24]}.npy"
    if cache and path.is_file():
        return _split_rows(np.load(path), conversations)
    rows = [conversation_vectors(c, e) for c, e in
            tqdm(zip(conversations, embeddings), total=len(conversations), desc="metrics", disable=not progress)]
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, np.concatenate(rows) if rows else np.zeros((0, len(METRIC_NAMES))))
        os.replace(tmp, path)
    return rows


def _split_rows(flat: np.ndarray, conversations: list[list[str]]) -> list[np.ndarray]:
    bounds = np.cumsum([len(c) for c in conversations])[:-1]
    return np.split(flat, bounds) if conversations else []
