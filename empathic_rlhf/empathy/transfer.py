"""Does the EPITOME-trained yardstick transfer to EmpatheticDialogues? Score ED test contexts with

- ``gold``: the real listener reply;
- ``shuffled``: a real listener reply of ANOTHER test conversation (fluent and empathic-sounding, but not about
  this context: emotion fit should drop, the mechanisms should not);
- ``ok``: the reply "ok.";
- ``non_sequitur``: "I had a sandwich for lunch and then watched some TV." (fluent, off-topic, not empathic).

A yardstick that works must rank gold above ok / non_sequitur on every mechanism and on emotion fit. Besides
the means, ``gold_beats_share`` is the paired share of contexts where the gold reply scores higher than this
condition's reply (ties count half): 0.5 = the score cannot tell them apart.
"""

from __future__ import annotations

import numpy as np

from .epitome import MECHANISMS

OK_REPLY = "ok."
NON_SEQUITUR = "I had a sandwich for lunch and then watched some TV."


def transfer_table(mechanisms, emotion, examples, *, seed: int = 0) -> dict:
    """``{condition: {n, <mech>_mean, <mech>_se, <mech>_share_ge1, emotion_fit_mean, emotion_fit_se}}``."""
    n = len(examples.replies)
    rng = np.random.default_rng(seed)
    shift = int(rng.integers(1, n)) if n > 1 else 0
    conditions = {
        "gold": list(examples.replies),
        "shuffled": [examples.replies[(i + shift) % n] for i in range(n)],
        "ok": [OK_REPLY] * n,
        "non_sequitur": [NON_SEQUITUR] * n,
    }
    table, gold = {}, {}
    for name, replies in conditions.items():
        probabilities = mechanisms.probabilities(replies)
        row, scores = {"n": n}, {}
        for m in MECHANISMS:
            scores[m] = probabilities[m] @ np.array([0.0, 1.0, 2.0])
            row[f"{m}_share_ge1"] = float((probabilities[m].argmax(axis=1) >= 1).mean())
        scores["empathy"] = np.mean([scores[m] for m in MECHANISMS], axis=0)
        scores["emotion_fit"] = emotion.fit_scores(examples.histories, replies)
        gold = gold or scores
        for key, values in scores.items():
            row[f"{key}_mean"] = float(values.mean())
            row[f"{key}_se"] = float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
            if name != "gold":
                row[f"{key}_gold_beats_share"] = float(np.mean(gold[key] > values) + 0.5 * np.mean(gold[key] == values))
        table[name] = row
    return table
