"""A tiny empathy model built once per session from planted data (a few seconds)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def planted_empathy_model(tmp_path_factory):
    from empathy.planted_empathy import build_planted_scorer

    return build_planted_scorer(tmp_path_factory.mktemp("empathy"))
