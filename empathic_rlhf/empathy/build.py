"""Build the yardsticks: train both on local data, measure them on their test splits, save one folder.

The folder (``cache_dir()/empathy/<MODEL_VERSION>`` by default) holds ``mechanisms.joblib``, ``emotion.joblib``
and ``report.json`` (config, library versions, data sizes, the test tables, the ED transfer table, timings). It is
written beside and renamed into place, so a killed build leaves nothing half-written; the build takes about
three minutes on a busy 2-core CPU and is deterministic for a given seed, so "resume" is simply "run it again".
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path

from ..errors import EmpathicError
from ..io import atomic_path
from ..paths import cache_dir
from .config import EmpathyBuildConfig

MODEL_VERSION = "v1"  # bump when the saved objects change shape, so old caches are rebuilt
FILES = ("mechanisms.joblib", "emotion.joblib", "report.json")
ED_DIR_ENV = "EMPATHIC_DATA_DIR"


def default_model_dir() -> Path:
    return cache_dir() / "empathy" / MODEL_VERSION


def default_ed_dir() -> Path:
    explicit = os.environ.get(ED_DIR_ENV)
    if explicit:
        return Path(explicit)
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "empatheticdialogues" / "reconstructed"


def check_data(config: EmpathyBuildConfig) -> tuple[Path, Path]:
    """Both data folders, or an error naming what is missing (before any training, so it fails in seconds)."""
    from .epitome import MECHANISM_FILES, default_epitome_dir

    epitome = Path(config.epitome_dir) if config.epitome_dir else default_epitome_dir()
    missing = [f for f in MECHANISM_FILES.values() if not (epitome / f).is_file()]
    if missing:
        raise EmpathicError(f"{epitome / missing[0]}: EPITOME data not found; the empathy yardsticks are built "
                            "from it (set $EMPATHIC_EPITOME_DIR or --empathy.epitome_dir)")
    ed = Path(config.data_dir) if config.data_dir else default_ed_dir()
    if not ed.exists():
        raise EmpathicError(f"{ed}: EmpatheticDialogues not found; the emotion classifier is built from it "
                            "(set $EMPATHIC_DATA_DIR or --empathy.data_dir)")
    return epitome, ed


def build_models(config: EmpathyBuildConfig, out_dir: str | os.PathLike | None = None, *, log=print) -> Path:
    """Train, measure and save both yardsticks into ``out_dir`` (default: the cache); returns the folder."""
    import joblib
    import sklearn

    from ..data.sources import resolve
    from .emotion import emotion_examples, evaluate_emotion, train_emotion
    from .epitome import load_examples, split_examples
    from .mechanisms import evaluate_mechanisms, train_mechanisms
    from .transfer import transfer_table

    epitome_dir, ed_dir = check_data(config)
    out_dir = Path(out_dir) if out_dir else default_model_dir()
    started = time.perf_counter()
    splits = split_examples(load_examples(epitome_dir))
    log(f"EPITOME: {', '.join(f'{k} {len(v):,}' for k, v in splits.items())} pairs (split by seeker post)")
    mechanisms, selection = train_mechanisms(splits, c_grid=config.mechanism_c_grid, seed=config.seed, log=log)
    mechanism_table = evaluate_mechanisms(mechanisms, splits["test"], seed=config.seed)

    source = resolve(str(ed_dir))
    limit = config.max_conversations
    train = emotion_examples(source.read("train"), limit=limit)
    test = emotion_examples(source.read("test"), limit=limit)
    log(f"EmpatheticDialogues: {len(train.replies):,} train / {len(test.replies):,} test listener turns")
    emotion, emotion_seconds = train_emotion(train, alpha=config.emotion_alpha, seed=config.seed, log=log)
    emotion_table = evaluate_emotion(emotion, test)
    transfer = transfer_table(mechanisms, emotion, test)

    report = {
        "model_version": MODEL_VERSION, "config": asdict(config), "sklearn": sklearn.__version__,
        "data": {"epitome_dir": str(epitome_dir), "ed_dir": str(ed_dir),
                 "epitome_pairs": {k: len(v) for k, v in splits.items()},
                 "ed_listener_turns": {"train": len(train.replies), "test": len(test.replies)}},
        "mechanisms": {"selection": selection, "test": mechanism_table},
        "emotion": {"seconds": emotion_seconds, "test": emotion_table},
        "transfer": transfer,
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    from .textmodel import drop_fit_leftovers

    for features in (mechanisms.features, emotion.context_features, emotion.reply_features):
        drop_fit_leftovers(features)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        joblib.dump(mechanisms, tmp / "mechanisms.joblib")
        joblib.dump(emotion, tmp / "emotion.joblib")
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    log(f"saved {out_dir} ({report['build_seconds']:.0f} s)")
    return out_dir
