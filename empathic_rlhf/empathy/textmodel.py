"""The text classifier both yardsticks use: TF-IDF word and character n-grams -> logistic regression.

Chosen by measurement on this CPU (docs/empathy.md): on EPITOME it beats frozen all-MiniLM-L6-v2 embeddings
(the issue's floor) clearly, adding those embeddings to the n-grams changed test macro-F1 by less than its noise,
and it trains in seconds and scores thousands of texts per second with no encoder pass. Character n-grams
(``char_wb`` 2-5) catch spelling variants and Reddit/chat style ("sooo sorry", "hugs"); word 1-2 grams catch
phrases ("what happened", "i understand").
"""

from __future__ import annotations

import numpy as np


def ngram_features(*, chars: bool = True, min_df: int = 2, max_features: int | None = None):
    """An unfitted TF-IDF featurizer: word 1-2 grams, plus char_wb 2-5 grams when ``chars``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    parts = [("words", TfidfVectorizer(ngram_range=(1, 2), min_df=min_df, sublinear_tf=True,
                                        max_features=max_features))]
    if chars:
        parts.append(("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=min_df + 1,
                                               sublinear_tf=True, max_features=max_features)))
    return FeatureUnion(parts)


def drop_fit_leftovers(features) -> None:
    """Remove each fitted vectorizer's ``stop_words_`` (the n-grams pruned by min_df / max_features): kept by
    scikit-learn only for introspection, it is not needed to transform and need not be saved."""
    for _, vectorizer in features.transformer_list:
        if hasattr(vectorizer, "stop_words_"):
            vectorizer.stop_words_ = None


def logistic(c: float, *, balanced: bool, seed: int = 0, max_iter: int = 3000):
    """Logistic regression; ``balanced`` weighs classes by inverse frequency (EPITOME's levels are imbalanced)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=max_iter,
                              random_state=seed)


def class_probabilities(model, features, classes) -> np.ndarray:
    """``predict_proba`` with columns in the order of ``classes`` (a class absent from training gets 0)."""
    proba = model.predict_proba(features)
    out = np.zeros((proba.shape[0], len(classes)), dtype=np.float64)
    position = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model.classes_):
        out[:, position[c]] = proba[:, j]
    return out


def sgd_logistic(alpha: float, *, seed: int = 0, epochs: int = 15):
    """Logistic loss fitted by SGD (one-vs-rest, probabilities normalised): for the 32-way emotion task on ~40k
    texts, lbfgs logistic regression did not finish in minutes on this shared 2-core CPU; SGD takes ~20 s and
    was as accurate as the best alternative measured (docs/empathy.md)."""
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="log_loss", alpha=alpha, max_iter=epochs, tol=None, random_state=seed)
