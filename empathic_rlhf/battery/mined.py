"""Stock replies and questions mined from training golds: the short replies ED's listeners themselves wrote again
and again ("That is awesome!", "Why not?"). A fixed list of a few dozen phrases teaches a model those phrases; the
battery asks whether it learned "a reply that fits any conversation is worse", so the judge build can widen its
TRAINING lists with hundreds of such replies -- minus every one that contains, is contained in, or shares half its words
with a BATTERY phrase ("I'm sorry to hear that." is out: the battery has "I'm so sorry to hear that."), so the
battery still measures generalisation and not memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from .phrases import BATTERY, Phrases
from .probes import normalised

MAX_WORDS = 8  # a "short" reply: most of ED's listener replies are longer; the stock ones are not
MIN_COUNT = 2  # written by at least two listeners: a reply that fitted more than one conversation


def _battery_keys(battery: Phrases) -> set[str]:
    phrases = (*battery.stock, *battery.questions, *battery.sympathy, *battery.cheer, *battery.as_person)
    return {key for key in map(normalised, phrases) if key}


def _touches_battery(key: str, battery_keys: set[str]) -> bool:
    words = set(key.split())
    for phrase in battery_keys:
        if f" {phrase} " in f" {key} " or f" {key} " in f" {phrase} ":
            return True
        shared = words & set(phrase.split())
        if len(shared) >= 0.5 * len(words | set(phrase.split())):
            return True
    return False


def mine_phrases(golds: Iterable[str], top: int, battery: Phrases = BATTERY) -> tuple[list[str], list[str]]:
    """The ``top`` most frequent short replies among ``golds`` (stock) and the ``top`` most frequent short
    questions (to append to a human reply), each written at least MIN_COUNT times, none touching a BATTERY
    phrase (:func:`_touches_battery`); most frequent first, ties by text."""
    counts: Counter = Counter()
    surface: dict[str, Counter] = {}
    for gold in golds:
        key = normalised(gold)
        if key and len(key.split()) <= MAX_WORDS and any(c.isalpha() for c in key):
            counts[key] += 1
            surface.setdefault(key, Counter())[gold.strip()] += 1
    battery_keys = _battery_keys(battery)
    frequent = sorted((key for key, n in counts.items() if n >= MIN_COUNT and not _touches_battery(key, battery_keys)),
                      key=lambda key: (-counts[key], key))
    texts = [surface[key].most_common(1)[0][0] for key in frequent]
    questions = [text for text in texts if text.endswith("?") and len(text.split()) <= 6]
    return texts[:top], questions[:top]


def widened(phrases: Phrases, golds: Iterable[str], top: int) -> tuple[Phrases, dict]:
    """``phrases`` with the mined stock replies and questions added (those it lacks); and the added lists (for the
    build report)."""
    if top <= 0:
        return phrases, {"stock": [], "questions": []}
    mined_stock, mined_questions = mine_phrases(golds, top)
    have_stock, have_questions = set(map(normalised, phrases.stock)), set(map(normalised, phrases.questions))
    stock = [p for p in mined_stock if normalised(p) not in have_stock]
    questions = [p for p in mined_questions if normalised(p) not in have_questions]
    return (replace(phrases, stock=(*phrases.stock, *stock), questions=(*phrases.questions, *questions)),
            {"stock": stock, "questions": questions})
