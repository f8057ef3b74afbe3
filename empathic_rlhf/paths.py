"""Where things live: the data directory and the cache, each set by an environment variable or an option."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "EMPATHIC_DATA_DIR"
CACHE_DIR_ENV = "EMPATHIC_CACHE_DIR"


def cache_dir() -> Path:
    """The cache for downloads and converted models: ``$EMPATHIC_CACHE_DIR``, else ``~/.cache/empathic_rlhf``."""
    root = os.environ.get(CACHE_DIR_ENV) or Path.home() / ".cache" / "empathic_rlhf"
    return Path(root).expanduser()


def data_dir_setting(explicit: str | None) -> str | None:
    """The data directory asked for: the ``--data-dir`` option, else ``$EMPATHIC_DATA_DIR``, else None."""
    return explicit or os.environ.get(DATA_DIR_ENV) or None
