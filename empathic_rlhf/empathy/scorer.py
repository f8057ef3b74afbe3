"""The scorer others call: ``load_empathy_scorer()(histories, replies) -> {er, ip, ex, empathy, emotion_fit}``.

Where the models come from, first match wins: the ``path`` argument, ``$EMPATHIC_EMPATHY_MODEL``, else the cache
(``cache_dir()/empathy/<version>``), built there on first use from the local EPITOME and ED data (~3 minutes;
an error within seconds when that data is not found). Tests point the variable or the argument at a tiny folder
built from planted data.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from ..errors import EmpathicError
from .build import FILES, build_models, default_model_dir
from .config import EmpathyBuildConfig
from .epitome import MECHANISMS

MODEL_ENV = "EMPATHIC_EMPATHY_MODEL"
SCORE_NAMES = ("er", "ip", "ex", "empathy", "emotion_fit")
BATCH = 2048  # texts per transform call: bounds memory of the sparse matrices
PROGRESS_FROM = 5000  # show a progress bar from this many replies on


class EmpathyScorer:
    """Scores (history, reply) pairs; cheap (no neural encoder): thousands of replies per second."""

    def __init__(self, folder: str | os.PathLike):
        import joblib

        self.folder = Path(folder)
        self.mechanisms = joblib.load(self.folder / "mechanisms.joblib")
        self.emotion = joblib.load(self.folder / "emotion.joblib")

    def __call__(self, histories: list[list[str]], replies: list[str]) -> dict[str, np.ndarray]:
        if len(histories) != len(replies):
            raise EmpathicError(f"empathy scorer: {len(histories)} histories but {len(replies)} replies")
        from tqdm.auto import tqdm

        parts: dict[str, list[np.ndarray]] = {name: [] for name in SCORE_NAMES}
        starts = range(0, len(replies), BATCH)
        for start in tqdm(starts, desc="empathy", unit="batch", disable=len(replies) < PROGRESS_FROM):
            batch_histories = [list(h) for h in histories[start:start + BATCH]]
            batch_replies = [str(r) for r in replies[start:start + BATCH]]
            levels = self.mechanisms.expected_levels(batch_replies)
            for m in MECHANISMS:
                parts[m].append(levels[m])
            parts["empathy"].append(np.mean([levels[m] for m in MECHANISMS], axis=0))
            parts["emotion_fit"].append(self.emotion.fit_scores(batch_histories, batch_replies))
        return {name: np.concatenate(chunks).astype(np.float64) if chunks else np.zeros(0, dtype=np.float64)
                for name, chunks in parts.items()}

    def predict_emotion(self, histories: list[list[str]]) -> list[tuple[str, float]]:
        """Top-1 emotion of each context and its probability."""
        if not histories:
            return []
        proba = self.emotion.context_probabilities([list(h) for h in histories])
        best = proba.argmax(axis=1)
        return [(self.emotion.classes[b], float(proba[i, b])) for i, b in enumerate(best)]


def _built_with_this_sklearn(folder: Path) -> bool:
    """Pickled scikit-learn objects are only guaranteed to load in the version that saved them: a cached build
    from another version is rebuilt rather than half-trusted."""
    import json

    import sklearn

    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    return report.get("sklearn") == sklearn.__version__


def scorer_ready() -> bool:
    """Whether :func:`load_empathy_scorer` would load at once, without building: a model folder is named, or the
    cache holds a build of this scikit-learn version. Stages that must not spend minutes building ask this."""
    explicit = os.environ.get(MODEL_ENV)
    folder = Path(explicit) if explicit else default_model_dir()
    if not all((folder / f).is_file() for f in FILES):
        return False
    return bool(explicit) or _built_with_this_sklearn(folder)


@functools.lru_cache(maxsize=2)
def shared_scorer(path: str | None = None) -> EmpathyScorer:
    """One scorer per process and folder, for callers that score one item at a time (``prepare``'s knowledge)."""
    return load_empathy_scorer(path)


def load_empathy_scorer(path: str | os.PathLike | None = None) -> EmpathyScorer:
    """The scorer from ``path``, else ``$EMPATHIC_EMPATHY_MODEL``, else the cache (built on first use)."""
    explicit = path or os.environ.get(MODEL_ENV)
    if explicit:
        folder = Path(explicit)
        missing = [f for f in FILES if not (folder / f).is_file()]
        if missing:
            raise EmpathicError(f"{folder / missing[0]}: not an empathy model folder (build one with "
                                "`empathic empathy build --out DIR`)")
        return EmpathyScorer(folder)
    folder = default_model_dir()
    if not all((folder / f).is_file() for f in FILES) or not _built_with_this_sklearn(folder):
        import sys

        print(f"building the empathy yardsticks in {folder} (first use only, ~3 minutes)", file=sys.stderr)
        build_models(EmpathyBuildConfig(), folder, log=lambda line: print(line, file=sys.stderr))
    return EmpathyScorer(folder)
