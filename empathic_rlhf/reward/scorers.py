"""Named scorers for ``synthetic:<scorer>`` labels: batch functions (histories, replies) -> scores."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import EmpathicError

BatchScorer = Callable[[list[list[str]], list[str]], list[float]]


def _length(histories: list[list[str]], replies: list[str]) -> list[float]:
    return [float(len(reply.split())) for reply in replies]


def _static(histories: list[list[str]], replies: list[str]) -> list[float]:
    from ..metrics.static_reward import static_reward

    return static_reward(histories, replies)


SCORERS: dict[str, BatchScorer] = {"static": _static, "length": _length}


def scorer_named(name: str) -> BatchScorer:
    if name not in SCORERS:
        raise EmpathicError(f"unknown synthetic scorer {name!r} (known: {', '.join(SCORERS)})")
    return SCORERS[name]
