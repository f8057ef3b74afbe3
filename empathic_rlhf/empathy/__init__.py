"""Empathy yardsticks: EPITOME mechanisms (ER / IP / EX) and ED emotion recognition + emotion fit.
See docs/empathy.md. ``load_empathy_scorer`` is the API; importing this package loads nothing heavy."""

from __future__ import annotations


def load_empathy_scorer(path=None):
    """See :func:`empathic_rlhf.empathy.scorer.load_empathy_scorer`."""
    from .scorer import load_empathy_scorer as load

    return load(path)


def yardsticks_ready() -> bool:
    """See :func:`empathic_rlhf.empathy.scorer.scorer_ready`."""
    from .scorer import scorer_ready

    return scorer_ready()
