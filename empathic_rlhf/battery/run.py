"""Run the battery: score the gold reply and every probe of each context with each scorer, and count, per probe
and per kind, the share of contexts where gold scores strictly higher (a tie counts against the scorer), with a
95% Wilson interval. A kind's row is its worst probe: a scorer passes a kind only if no phrase of it buys a win.

Result (stored as ``battery`` in the reward stage's metrics.json and evaluate's table.json)::

    {"n_contexts", "seed", "warn_above", "scorers": {name: {"probes": {probe: {kind, wins, n, rate, lo, hi}},
                                                             "kinds": {kind: {probe, wins, n, rate, lo, hi}},
                                                             "failing": [probe, ...]}}}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ..stats import proportion_ci
from .phrases import BATTERY, Phrases
from .probes import KINDS, Context, GoldPool, all_probes

WARN_ABOVE = 0.10  # a probe that ties or beats gold in more than this share of contexts is flagged


def contexts_from_conversations(conversations: Iterable, *, history_turns: int = 3,
                                limit: int | None = None) -> list[Context]:
    """The listener turns of ED conversations (``data.records.Conversation``) in file order, each with its
    ``history_turns`` previous utterances: the first ``limit`` of them."""
    contexts: list[Context] = []
    for conversation in conversations:
        texts = [turn.text for turn in conversation.turns]
        for position, turn in enumerate(conversation.turns):
            if position == 0 or turn.role != "listener":
                continue
            contexts.append(Context(conversation.conv_id, conversation.emotion or "", tuple(
                texts[max(0, position - history_turns):position]), turn.text, conversation.situation))
            if limit is not None and len(contexts) >= limit:
                return contexts
    return contexts


def contexts_from_samples(samples: Iterable) -> list[Context]:
    """Battery contexts from a run's prepared samples (``records.Sample``): the reply and the prompt as the run's
    models saw it."""
    from ..records import as_dicts, history_texts

    return [Context(s.conv_id, s.emotion or "", tuple(history_texts(s.prompt)), s.reply, s.situation or "",
                    tuple(as_dicts(s.prompt))) for s in samples]


def predicted_emotions(contexts: list[Context], scorer=None) -> list[str]:
    """The emotion the empathy yardsticks read from each context's history (``scorer``: an EmpathyScorer; default
    the process's shared one): what the emotion-template probe names back, as a deployed model would guess it."""
    if scorer is None:
        from ..empathy.scorer import shared_scorer

        scorer = shared_scorer()
    return [emotion for emotion, _ in scorer.predict_emotion([list(c.history) for c in contexts])]


def battery_rows(contexts: list[Context], *, phrases: Phrases = BATTERY, seed: int = 0,
                 predicted_emotions: list[str] | None = None, pool: GoldPool | None = None) -> list[list]:
    """Per context, its probes (a list of :class:`~.probes.Probe`). ``pool`` defaults to the contexts' own
    golds; ``predicted_emotions`` (one per context) name the emotion in templates, else the labelled one."""
    pool = pool or GoldPool(contexts)
    return [all_probes(context, phrases, pool, seed=seed,
                       emotion=predicted_emotions[i] if predicted_emotions else None)
            for i, context in enumerate(contexts)]


def run_battery(contexts: list[Context], scorers: dict[str, Callable], *, seed: int = 0,
                predicted_emotions: list[str] | None = None, phrases: Phrases = BATTERY,
                log: Callable[[str], None] = lambda line: None) -> dict:
    """Score every context's gold and probes with every scorer; the table described in the module docstring.
    A scorer is a column (``(prompts, replies) -> scores``, tabulated under its name) or a registry scorer giving
    ``{column: scores}`` (each column tabulated under its own name)."""
    probes = battery_rows(contexts, phrases=phrases, seed=seed, predicted_emotions=predicted_emotions)
    prompts, replies = flatten(contexts, probes)
    log(f"battery: {len(contexts)} contexts, {len(replies) - len(contexts)} probes, {len(scorers)} scorers")
    result = {"n_contexts": len(contexts), "seed": seed, "warn_above": WARN_ABOVE, "scorers": {}}
    for name, scorer in scorers.items():
        scores = scorer(prompts, replies)
        columns = scores if isinstance(scores, dict) else {name: scores}
        for column, values in columns.items():
            result["scorers"][column] = tabulate(contexts, probes, np.asarray(values, dtype=np.float64))
        log(f"battery: scored {name}")
    return result


def flatten(contexts: list[Context], probes: list[list]) -> tuple[list[list[dict]], list[str]]:
    """One scoring batch of (prompt, reply): per context the gold reply, then each of its probes."""
    prompts, replies = [], []
    for context, own in zip(contexts, probes):
        messages = context.messages
        for reply in (context.gold, *(p.reply for p in own)):
            prompts.append(messages)
            replies.append(reply)
    return prompts, replies


def tabulate(contexts: list[Context], probes: list[list], scores: np.ndarray) -> dict:
    """Wins per probe and per kind from the flat ``scores`` (per context: gold, then its probes in order)."""
    wins: dict[str, list[int]] = {}
    kind_of: dict[str, str] = {}
    at = 0
    for own in probes:
        gold = scores[at]
        for offset, probe in enumerate(own, start=1):
            # NaN never wins: a scorer that cannot score gold loses to everything
            won = bool(np.isfinite(gold) and (not np.isfinite(scores[at + offset]) or gold > scores[at + offset]))
            wins.setdefault(probe.name, []).append(int(won))
            kind_of[probe.name] = probe.kind
        at += 1 + len(own)
    per_probe = {name: {"kind": kind_of[name], "wins": sum(w), **proportion_ci(sum(w), len(w))}
                 for name, w in wins.items()}
    per_kind = {}
    for kind in KINDS:
        rows = [(name, row) for name, row in per_probe.items() if row["kind"] == kind]
        if rows:
            name, row = min(rows, key=lambda item: (item[1]["rate"], item[0]))
            per_kind[kind] = {"probe": name, **{k: row[k] for k in ("wins", "n", "rate", "lo", "hi")}}
    failing = sorted(name for name, row in per_probe.items() if 1 - row["rate"] > WARN_ABOVE)
    return {"probes": per_probe, "kinds": per_kind, "failing": failing}


def format_table(result: dict) -> str:
    """Markdown: one row per probe kind (its worst probe), one column per scorer, "share [95% CI]"."""
    names = list(result["scorers"])
    lines = [f"Gold scores strictly higher than the probe, share of {result['n_contexts']} contexts [95% CI]; "
             f"a kind's row is its worst probe; ✗ = the probe ties or beats gold in > "
             f"{result['warn_above']:.0%} of contexts.", "",
             "| probe kind | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for kind in KINDS:
        cells = []
        for name in names:
            row = result["scorers"][name]["kinds"].get(kind)
            if row is None:
                cells.append("–")
                continue
            mark = " ✗" if 1 - row["rate"] > result["warn_above"] else ""
            cells.append(f"{row['rate']:.2f} [{row['lo']:.2f}, {row['hi']:.2f}]{mark}")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    for name in names:
        worst = {kind: row["probe"] for kind, row in result["scorers"][name]["kinds"].items()
                 if 1 - row["rate"] > result["warn_above"]}
        if worst:
            lines.append(f"\n{name}: worst probes: " + "; ".join(f"{k}: {p!r}" for k, p in worst.items()))
    return "\n".join(lines)
