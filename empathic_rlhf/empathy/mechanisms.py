"""Empathy mechanisms (EPITOME ER / IP / EX): one classifier per mechanism of the response's level 0/1/2.

Each classifier reads the RESPONSE only. Measured on the valid split, adding the seeker post (its n-grams or its
MiniLM embedding) did not help: the mechanisms are properties of how the reply is written ("I'm so sorry",
"I understand", "what happened?"), and the posts are Reddit threads unlike the ED contexts we score later, so a
post-dependent model would also transfer worse. The regularisation C is chosen per mechanism on valid macro-F1.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .epitome import MECHANISMS, EpitomeExample
from .classification import bootstrap_interval, macro_f1
from .textmodel import class_probabilities, logistic, ngram_features

LEVELS = (0, 1, 2)
C_GRID = (0.1, 0.3, 1.0, 3.0)


@dataclass
class MechanismModel:
    """Fitted featurizer and one logistic regression per mechanism."""

    features: object
    classifiers: dict  # mechanism -> LogisticRegression

    def probabilities(self, replies: list[str]) -> dict[str, np.ndarray]:
        """``{mechanism: [n, 3]}`` probabilities of levels 0, 1, 2."""
        x = self.features.transform(replies)
        return {m: class_probabilities(self.classifiers[m], x, LEVELS) for m in MECHANISMS}

    def expected_levels(self, replies: list[str]) -> dict[str, np.ndarray]:
        """``{mechanism: [n]}`` expected level Σ k·p(k), in [0, 2]."""
        levels = np.array(LEVELS, dtype=np.float64)
        return {m: p @ levels for m, p in self.probabilities(replies).items()}


def levels_of(pairs: list[EpitomeExample]) -> np.ndarray:
    return np.array([p.levels for p in pairs], dtype=np.int64).reshape(len(pairs), len(MECHANISMS))


def train_mechanisms(splits: dict[str, list[EpitomeExample]], *, c_grid=C_GRID, seed: int = 0, chars: bool = True,
                     min_df: int = 2, log=print) -> tuple[MechanismModel, dict]:
    """Fit on train, pick C per mechanism on valid; returns the model and ``{mechanism: {c, valid_macro_f1,
    seconds}}``."""
    start = time.perf_counter()
    features = ngram_features(chars=chars, min_df=min_df)
    x_train = features.fit_transform([p.response for p in splits["train"]])
    x_valid = features.transform([p.response for p in splits["valid"]])
    y_train, y_valid = levels_of(splits["train"]), levels_of(splits["valid"])
    featurize_seconds = time.perf_counter() - start
    classifiers, selection = {}, {}
    for k, mechanism in enumerate(MECHANISMS):
        t0 = time.perf_counter()
        best = None
        for c in c_grid:
            model = logistic(c, balanced=True, seed=seed).fit(x_train, y_train[:, k])
            score = macro_f1(y_valid[:, k], model.predict(x_valid), LEVELS) if len(y_valid) else 0.0
            if best is None or score > best[0]:
                best = (score, c, model)
        classifiers[mechanism] = best[2]
        selection[mechanism] = {"c": best[1], "valid_macro_f1": round(best[0], 4),
                                "seconds": round(time.perf_counter() - t0 + featurize_seconds / 3, 2)}
        log(f"  {mechanism}: C={best[1]} valid macro-F1 {best[0]:.3f} ({selection[mechanism]['seconds']:.1f} s)")
    return MechanismModel(features, classifiers), selection


def evaluate_mechanisms(model: MechanismModel, pairs: list[EpitomeExample], *, seed: int = 0) -> dict:
    """Accuracy and macro-F1 per mechanism on ``pairs``, each with a 95% bootstrap interval over pairs."""
    y = levels_of(pairs)
    probabilities = model.probabilities([p.response for p in pairs])
    table = {}
    for k, mechanism in enumerate(MECHANISMS):
        predicted = probabilities[mechanism].argmax(axis=1)
        truth = y[:, k]
        table[mechanism] = {
            "n": len(pairs),
            "accuracy": float(np.mean(predicted == truth)),
            "accuracy_ci": bootstrap_interval(truth, predicted, lambda t, p: float(np.mean(t == p)), seed=seed),
            "macro_f1": macro_f1(truth, predicted, LEVELS),
            "macro_f1_ci": bootstrap_interval(truth, predicted, lambda t, p: macro_f1(t, p, LEVELS), seed=seed),
        }
    return table
