"""Hard-negative pairs for the reward model: on prepared *train* contexts, the human reply beats a reply that never
read the conversation (a stock phrase, another conversation's reply, the speaker parroted, the gold reply with a
stock question appended, shuffled, cut, ...; ``battery/probes.py`` with the TRAINING phrases).

Why: the gold-vs-policy bootstrap teaches "human replies look like this", and a reward model that learned only that
is bought by stock questions (the battery showed it). These pairs teach "a reply must answer this conversation".

Kept apart end to end: source ``synthetic-negative:<kind>``, annotator ``synthetic-negative``, written to
``reward/pairs/negatives.jsonl`` and added to the reward model's training pairs only -- never to labels, never to
the held-out pairs it is measured on, never to DPO's pairs, never exported as human. The contexts come from the
prepared train split (the battery and evaluate use test; sample, RL and the tasks use valid), and the pool of
"another conversation's reply" is the same train contexts.
"""

from __future__ import annotations

import random

from ..battery.phrases import TRAINING
from ..battery.probes import GoldPool, context_rng, training_negative
from ..battery.run import contexts_from_samples
from ..records import Pair, Sample, reply

SOURCE_PREFIX = "synthetic-negative:"
ANNOTATOR = "synthetic-negative"
FILE = "negatives.jsonl"


def hard_negative_pairs(samples: list[Sample], count: int, *, seed: int = 0) -> list[Pair]:
    """``count`` pairs (gold > hard negative), one per context drawn at random from ``samples``."""
    contexts = contexts_from_samples(samples)
    pool = GoldPool(contexts)
    chosen = random.Random(f"{seed}:negatives").sample(range(len(contexts)), min(count, len(contexts)))
    pairs = []
    for index in chosen:
        context = contexts[index]
        probe = training_negative(context, TRAINING, pool, context_rng(seed, context, "negative"))
        if probe is None or not probe.reply.strip():  # an empty reply is no message
            continue
        pairs.append(Pair(prompt=samples[index].prompt, chosen=reply(context.gold), rejected=reply(probe.reply),
                          task_id=f"negative:{context.key}", source=f"{SOURCE_PREFIX}{probe.kind}",
                          annotator=ANNOTATOR))
    return pairs
