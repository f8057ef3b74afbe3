"""Deterministic hash splits: the same key lands on the same side on every machine, run and import.

Used wherever a set is divided by an identity rather than by position -- held-out conversations of the reward
model and DPO, calibration tasks of the labelling app, the EPITOME split by seeker post -- so a conversation (or
post) is never on both sides and adding data never moves existing items across.
"""

from __future__ import annotations

import hashlib


def stable_fraction(key: str, salt: str = "") -> float:
    """A number in [0, 1) fixed by ``key`` (and ``salt``, to draw independent splits over the same keys)."""
    digest = hashlib.sha256(f"{salt}{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_fraction(key: str, fraction: float, salt: str = "") -> bool:
    """Whether ``key`` falls in the first ``fraction`` of the range (about ``fraction`` of all keys do)."""
    return stable_fraction(key, salt) < fraction
