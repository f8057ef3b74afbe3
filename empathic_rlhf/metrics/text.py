"""Tokenisation shared by every lexical metric, so that all of them see the same words.

DYME (von Unold et al. 2021) lowercases, tokenises with spaCy and drops NLTK's English stopwords (minus the
question words), contractions and punctuation before counting repeated words. We use a regex instead of spaCy (no
model download, ~50x faster) and split on apostrophes, so ``don't`` gives ``don`` + ``t``: both are stopwords
below, which drops contraction pieces exactly as DYME's contraction filter does.
"""

from __future__ import annotations

import re

# DYME's question words (metrics.py of the DYME code): a reply is a question if it has one of these AND a '?'.
QUESTION_WORDS: frozenset[str] = frozenset({"who", "what", "why", "where", "how", "when"})

# NLTK's English stopword list (179 words) without the question words, as DYME filters it. Written out here so
# the metric needs no NLTK data download.
STOPWORDS: frozenset[str] = frozenset(
    """i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him
    his himself she she's her hers herself it it's its itself they them their theirs themselves which whom this
    that that'll these those am is are was were be been being have has had having do does did doing a an the and
    but if or because as until while of at by for with about against between into through during before after
    above below to from up down in out on off over under again further then once here there all any both each few
    more most other some such no nor not only own same so than too very s t can will just don don't should
    should've now d ll m o re ve y ain aren aren't couldn couldn't didn didn't doesn doesn't hadn hadn't hasn hasn't
    haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn shouldn't wasn wasn't
    weren weren't won won't wouldn wouldn't""".split()
) - QUESTION_WORDS

# Pieces split off at an apostrophe, and "i"-forms the regex creates ("i'm" -> "i", "m"): all in STOPWORDS.
_WORD_PIECES = re.compile(r"[a-z0-9]+")
# Words as a reader counts them for length: "don't" and "co-worker" are one word each.
_WORDS = re.compile(r"[A-Za-z0-9]+(?:['’\-][A-Za-z0-9]+)*")


def tokens(text: str) -> list[str]:
    """Lowercased word pieces of ``text`` (apostrophes split words, punctuation dropped)."""
    return _WORD_PIECES.findall(text.lower().replace("’", "'"))


def content_tokens(text: str) -> list[str]:
    """The tokens DYME's repetition metrics count: :func:`tokens` without stopwords and contraction pieces."""
    return [t for t in tokens(text) if t not in STOPWORDS]


def word_count(text: str) -> int:
    """Length in words, punctuation excluded (DYME's ``utterance_length``)."""
    return len(_WORDS.findall(text))
