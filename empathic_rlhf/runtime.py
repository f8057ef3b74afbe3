"""Process settings that must be in place before torch loads."""

from __future__ import annotations

import os


def configure_cpu_runtime() -> None:
    """Keep OpenMP threads from busy-waiting (on a 2-core machine a spinning idle thread slows a run ~20x) and
    keep tokenizers from forking thread pools. Call before importing torch; explicit user settings win."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
