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

from ..paths import cache_dir


def load_split(data_dir: str | None, split: str, limit: int | None = None) -> list[list[str]]:
    """Utterance texts of each conversation of ``split``, in file order (``limit`` keeps the first ones).

    The data directory is found as every stage finds it (``--data-dir``, else ``$EMPATHIC_DATA_DIR``; see
    ``data/sources.py``): conversation JSONL such as ``shared/data/empatheticdialogues/reconstructed``, or the CSVs.
    """
    from ..data.sources import resolve

    conversations = [[turn.text for turn in c.turns] for c in resolve(data_dir).read(split)]
    return conversations[:limit] if limit is not None else conversations


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

    from ..metrics.vector import METRIC_NAMES, metric_vectors

    # Keyed by the texts, the embeddings (similarity) AND the metric code, so editing a metric never serves
    # stale cached values.
    key = hashlib.sha256("\x01".join([_metrics_code_hash(), *METRIC_NAMES,
                                        *("\x00".join(c) for c in conversations)]).encode())
    for e in embeddings:
        key.update(np.ascontiguousarray(e).tobytes())
    path = cache_dir() / "dyme-metrics" / f"{key.hexdigest()[:24]}.npy"
    if cache and path.is_file():
        return _split_rows(np.load(path), conversations)
    # One batched call over every (history, utterance) pair: the toxicity classifier's per-call overhead
    # dominates when it is called per conversation (~100 conversations/s instead of thousands).
    rows = []
    for start in tqdm(range(0, len(conversations), 2000), desc="metrics", unit="x2000 conv", disable=not progress):
        block = conversations[start:start + 2000]
        vectors = np.concatenate(embeddings[start:start + 2000])
        previous = np.concatenate([np.roll(e, 1, axis=0) for e in embeddings[start:start + 2000]])
        histories = [c[:t] for c in block for t in range(len(c))]
        flat, _ = metric_vectors(histories, [u for c in block for u in c], reply_vectors=vectors,
                                 previous_vectors=previous)
        rows.extend(_split_rows(flat, block))
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, np.concatenate(rows) if rows else np.zeros((0, len(METRIC_NAMES))))
        os.replace(tmp, path)
    return rows


def _metrics_code_hash() -> str:
    from .. import metrics

    folder = Path(metrics.__file__).parent
    digest = hashlib.sha256()
    for name in ("text.py", "lexical.py", "toxicity.py", "vector.py"):
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()[:16]


def _split_rows(flat: np.ndarray, conversations: list[list[str]]) -> list[np.ndarray]:
    bounds = np.cumsum([len(c) for c in conversations])[:-1]
    return np.split(flat, bounds) if conversations else []
