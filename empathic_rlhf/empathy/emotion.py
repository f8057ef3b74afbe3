"""Emotion recognition (the 32 EmpatheticDialogues emotions) and the "emotion fit" of a reply.

Two classifiers, both TF-IDF word 1-2 grams -> logistic loss fitted by SGD, trained on ED train:

- context: the dialogue history before a listener turn (joined oldest..latest) -> the conversation's emotion.
  Measured per listener turn on ED test, the same unit as MoEL / MIME / CEM, which classify the emotion from the
  dialogue context of each response.
- reply: the listener turn alone -> the conversation's emotion (what emotion a reply is responding to).

Emotion fit of a reply: with p_ctx the context classifier's distribution, p_reply the reply classifier's and
prior(e) the emotion frequencies of ED train, p_reply(e) / prior(e) is (by Bayes) the likelihood ratio
P(reply | e) / P(reply), so

    L = Σ_e p_ctx(e) · p_reply(e) / prior(e)  =  P(reply | the context's emotions) / P(reply)

and fit = L / (1 + L), in [0, 1): the probability that the reply was written for THIS context's emotion rather
than for a random one (equal odds). A reply with no emotional content ("ok.") has L ≈ 1 -> fit ≈ 0.5; a reply
typical of the context's emotion > 0.5; a reply typical of another emotion ("congratulations!" to a grief story)
< 0.5. Measured on ED test (docs/empathy.md) it separated gold replies from "ok." / off-topic / shuffled replies
better than the plain overlap Σ sqrt(p_ctx · p_reply), which rated a non sequitur almost as high as the gold reply
(both distributions are broad, so any two overlap). Near-synonym emotions (afraid / terrified) are handled by
summing over the whole context distribution rather than using its top-1.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..stats import proportion_ci
from .textmodel import class_probabilities, ngram_features, sgd_logistic


@dataclass
class EmotionExamples:
    """Listener turns of ED with their history and the conversation's emotion, row-aligned."""

    histories: list[list[str]]
    replies: list[str]
    emotions: list[str]


def context_text(history: list[str]) -> str:
    return " ".join(history)


def emotion_examples(conversations, *, limit: int | None = None) -> EmotionExamples:
    """Every listener turn with at least one previous turn, from ED conversations that carry an emotion label."""
    histories, replies, emotions = [], [], []
    for conversation in conversations[:limit] if limit else conversations:
        if not conversation.emotion:
            continue
        texts = [turn.text for turn in conversation.turns]
        for position, turn in enumerate(conversation.turns):
            if position > 0 and turn.role == "listener":
                histories.append(texts[:position])
                replies.append(turn.text)
                emotions.append(conversation.emotion)
    return EmotionExamples(histories, replies, emotions)


@dataclass
class EmotionModel:
    """The two fitted classifiers and their shared label order."""

    classes: list[str]
    prior: np.ndarray  # emotion frequencies of the training examples, in ``classes`` order
    context_features: object
    context_classifier: object
    reply_features: object
    reply_classifier: object

    def context_probabilities(self, histories: list[list[str]]) -> np.ndarray:
        x = self.context_features.transform([context_text(h) for h in histories])
        return class_probabilities(self.context_classifier, x, self.classes)

    def reply_probabilities(self, replies: list[str]) -> np.ndarray:
        x = self.reply_features.transform(replies)
        return class_probabilities(self.reply_classifier, x, self.classes)

    def fit_scores(self, histories: list[list[str]], replies: list[str]) -> np.ndarray:
        """Emotion fit L / (1 + L) of each reply to its history, in [0, 1) (see the module docstring)."""
        ratio = self.reply_probabilities(replies) / self.prior
        likelihood_ratio = (self.context_probabilities(histories) * ratio).sum(axis=1)
        return likelihood_ratio / (1.0 + likelihood_ratio)


def train_emotion(train: EmotionExamples, *, alpha: float = 1e-5, seed: int = 0, max_features: int = 100_000,
                  log=print) -> tuple[EmotionModel, dict]:
    """Fit both classifiers on ``train``; returns the model and the seconds each took."""
    classes = sorted(set(train.emotions))
    seconds = {}
    fitted = {}
    for name, texts in (("context", [context_text(h) for h in train.histories]), ("reply", train.replies)):
        t0 = time.perf_counter()
        features = ngram_features(chars=False, max_features=max_features)
        x = features.fit_transform(texts)
        classifier = sgd_logistic(alpha, seed=seed).fit(x, train.emotions)
        fitted[name] = (features, classifier)
        seconds[name] = round(time.perf_counter() - t0, 1)
        log(f"  emotion from {name}: {len(texts):,} examples, {x.shape[1]:,} features, {seconds[name]:.0f} s")
    counts = np.array([train.emotions.count(c) for c in classes], dtype=np.float64)
    model = EmotionModel(classes, counts / counts.sum(), *fitted["context"], *fitted["reply"])
    return model, seconds


def evaluate_emotion(model: EmotionModel, test: EmotionExamples) -> dict:
    """Top-1 / top-5 accuracy of the context classifier (and top-1 of the reply classifier), Wilson 95% CIs."""
    truth = np.array([model.classes.index(e) if e in model.classes else -1 for e in test.emotions])
    result = {"n": len(truth), "classes": len(model.classes)}
    for name, proba in (("context", model.context_probabilities(test.histories)),
                        ("reply", model.reply_probabilities(test.replies))):
        ranking = np.argsort(-proba, axis=1)
        for k in (1, 5):
            hits = int((ranking[:, :k] == truth[:, None]).any(axis=1).sum())
            result[f"{name}_top{k}"] = hits / max(len(truth), 1)
            interval = proportion_ci(hits, len(truth))
            result[f"{name}_top{k}_ci"] = [interval["lo"], interval["hi"]]
    return result
