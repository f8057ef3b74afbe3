"""Adversarial replies to one context: what a reply that never read the conversation looks like.

The same generator serves two masters, each with its own phrase list (``phrases.py``): the battery (every probe of
every kind, ``BATTERY`` phrases, contexts from conversations nothing trained on) and the hard negatives that train
the judge and the reward model (one probe of a random kind per context, ``TRAINING`` phrases, train split only).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass

from ..records import alternating_prompt
from .phrases import NEGATIVE_EMOTIONS, POSITIVE_EMOTIONS, Phrases

# Probe kinds, in the order the battery table lists them.
KINDS = ("stock", "other_same_emotion", "other_emotion", "parrot", "emotion_template", "gold_plus_question",
         "shuffled", "half", "repeated", "degenerate", "empty", "wrong_tone", "as_person")

# How often each kind is drawn as a training negative. The hardest kind (a plausible reply to another story of the
# same emotion) is drawn most: it is the one only reading the conversation can reject.
TRAINING_WEIGHTS = {"other_same_emotion": 0.30, "other_emotion": 0.14, "stock": 0.10, "gold_plus_question": 0.10,
                    "parrot": 0.05, "emotion_template": 0.05, "shuffled": 0.05, "half": 0.05, "repeated": 0.04,
                    "degenerate": 0.03, "empty": 0.01, "wrong_tone": 0.04, "as_person": 0.04}


@dataclass(frozen=True)
class Context:
    """One held-out (or training) reply with what came before it. ``history``: the utterances, oldest first,
    ending with the speaker's turn the gold reply answers; ``situation``: the speaker's own account (ED prompt)."""

    conv_id: str
    emotion: str
    history: tuple[str, ...]
    gold: str
    situation: str = ""
    prompt: tuple[dict, ...] = ()  # the chat messages a run's models saw (knowledge segment included), if any

    @property
    def key(self) -> str:
        return f"{self.conv_id}#{len(self.history)}"

    @property
    def messages(self) -> list[dict]:
        """The context as scorers take it: the run's prompt, else the history as alternating chat turns."""
        return [dict(m) for m in self.prompt] if self.prompt else alternating_prompt(list(self.history))


@dataclass(frozen=True)
class Probe:
    kind: str
    name: str  # kind, or kind:<phrase> where a kind has several
    reply: str


class GoldPool:
    """The gold replies of a set of contexts by emotion, to draw "another conversation's reply" from."""

    def __init__(self, contexts: list[Context]):
        self.by_emotion: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for context in contexts:
            self.by_emotion[context.emotion].append((context.conv_id, context.gold))
        self.emotions = sorted(self.by_emotion)

    def other_reply(self, context: Context, rng: random.Random, *, same_emotion: bool) -> str | None:
        """A gold reply of a different conversation, with the same emotion or with another one."""
        if same_emotion:
            choices = self.by_emotion.get(context.emotion, [])
        else:
            others = [e for e in self.emotions if e != context.emotion]
            choices = self.by_emotion[rng.choice(others)] if others else []
        for _ in range(20):
            if not choices:
                return None
            conv_id, reply = rng.choice(choices)
            if conv_id != context.conv_id and reply != context.gold:
                return reply
        return None


def _words(text: str) -> list[str]:
    return text.split()


def _keyword(context: Context) -> str:
    """The longest word of the speaker's last turn (a degenerate reply repeats it)."""
    words = [w.strip(".,!?;:\"'()").lower() for w in _words(context.history[-1])] or ["so"]
    return max(words, key=len) or "so"


def _shuffled(gold: str, rng: random.Random) -> str | None:
    words = _words(gold)
    if len(set(words)) < 2:
        return None
    for _ in range(10):
        order = words[:]
        rng.shuffle(order)
        if order != words:
            return " ".join(order)
    return None


def _half(gold: str) -> str | None:
    words = _words(gold)
    return " ".join(words[: len(words) // 2]) if len(words) >= 2 else None


def _tone_phrases(emotion: str, phrases: Phrases) -> tuple[str, ...]:
    if emotion in POSITIVE_EMOTIONS:
        return phrases.sympathy
    if emotion in NEGATIVE_EMOTIONS:
        return phrases.cheer
    return ()


def _named(kind: str, items: tuple[str, ...]) -> list[tuple[str, str]]:
    """(probe name, phrase): the kind alone where it has one phrase, kind:<phrase> where it has several."""
    return [(kind if len(items) == 1 else f"{kind}:{item}", item) for item in items]


def kind_replies(kind: str, context: Context, phrases: Phrases, pool: GoldPool, rng: random.Random,
                 emotion: str) -> list[tuple[str, str]]:
    """Every (probe name, reply) of ``kind`` for ``context``; ``emotion`` names the context's emotion in templates
    (the battery passes the predicted one). A kind that does not apply (a one-word gold cannot be shuffled, mixed
    emotions have no wrong tone) gives nothing."""
    gold = context.gold
    if kind == "stock":
        return _named(kind, phrases.stock)
    if kind in ("other_same_emotion", "other_emotion"):
        reply = pool.other_reply(context, rng, same_emotion=kind == "other_same_emotion")
        return [(kind, reply)] if reply is not None else []
    if kind == "parrot":
        return [(kind, context.history[-1])]
    if kind == "emotion_template":
        return [(name, template.format(emotion=emotion)) for name, template in _named(kind, phrases.emotion_templates)]
    if kind == "gold_plus_question":
        return [(name, f"{gold} {question}") for name, question in _named(kind, phrases.questions)]
    if kind == "shuffled":
        reply = _shuffled(gold, rng)
        return [(kind, reply)] if reply is not None else []
    if kind == "half":
        reply = _half(gold)
        return [(kind, reply)] if reply is not None else []
    if kind == "repeated":
        return [(kind, f"{gold} {gold}")]
    if kind == "degenerate":
        word = _keyword(context)
        return [(name, text.format(word=word)) for name, text in _named(kind, phrases.degenerate)]
    if kind == "empty":
        return [(kind, "")]
    if kind == "wrong_tone":
        return _named(kind, _tone_phrases(context.emotion, phrases))
    if kind == "as_person":
        own = [("as_person:situation", context.situation)] if context.situation.strip() else []
        return own + [(f"as_person:{p}", p) for p in phrases.as_person]
    raise ValueError(f"unknown probe kind {kind!r}")


def context_rng(seed: int, context: Context, purpose: str) -> random.Random:
    """A generator that depends only on the seed and the context, so a context's probes never change when the
    set of contexts does."""
    return random.Random(f"{seed}:{purpose}:{context.key}")


def all_probes(context: Context, phrases: Phrases, pool: GoldPool, *, seed: int = 0,
               emotion: str | None = None) -> list[Probe]:
    """Every probe of every kind for one context (the battery)."""
    rng = context_rng(seed, context, "battery")
    emotion = emotion or context.emotion
    probes = []
    for kind in KINDS:
        probes += [Probe(kind, name, reply) for name, reply in kind_replies(kind, context, phrases, pool, rng, emotion)
                   if reply != context.gold]
    return probes


def training_negative(context: Context, phrases: Phrases, pool: GoldPool, rng: random.Random,
                      weights: dict[str, float] | None = None) -> Probe | None:
    """One hard negative for ``context``: a kind drawn by ``weights`` (default ``TRAINING_WEIGHTS``), one of its
    replies at random (templates name the conversation's labelled emotion); None when the drawn kind does not
    apply."""
    kinds, draws = zip(*(weights or TRAINING_WEIGHTS).items())
    kind = rng.choices(kinds, weights=draws)[0]
    options = [(name, reply) for name, reply in kind_replies(kind, context, phrases, pool, rng, context.emotion)
               if normalised(reply) != normalised(context.gold)]
    if not options:
        return None
    name, reply = rng.choice(options)
    return Probe(kind, name, reply)


def normalised(text: str) -> str:
    """Lower case, letters and digits only: "I'm sorry." and "im sorry" are the same phrase."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()
