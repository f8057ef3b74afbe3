"""Optional dependencies (``pip install 'empathic-rlhf[EXTRA]'``): a clear error naming the extra, at the moment a
setting first needs it, instead of an ImportError deep inside a stage."""

from __future__ import annotations

import importlib.util

from .errors import EmpathicError

# extra -> the module it installs
EXTRAS = {"ct2": "ctranslate2", "deepspeed": "deepspeed", "gpu": "vllm", "postgres": "psycopg",
          "tensorboard": "tensorboard"}


def require(extra: str, needed_for: str) -> None:
    """Raise an error naming ``extra`` unless its module is importable (checked without importing it)."""
    module = EXTRAS[extra]
    if importlib.util.find_spec(module) is None:
        raise EmpathicError(f"{needed_for} needs the optional package {module}: pip install 'empathic-rlhf[{extra}]'")
