"""The data of the label-efficiency benchmark (``benchmarks/label_efficiency.py``): pool and held-out pairs,
oracle scores, reply features and the simulated annotators' draws.

Pool: every pair of replies to each valid-split context of ``runs/results/sample/tasks.jsonl`` and of half the
test conversations of ``runs/results/evaluate/samples.jsonl``; held-out: every pair of the other half whose oracle
scores differ. Oracle: the empathy yardsticks, scored once and cached in the ``--work`` folder with the embeddings.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# Feature kinds of the benchmark: the library's (features.py) plus two TF-IDF ones measured only here, to see how
# much a model class closer to the oracle (itself TF-IDF n-grams -> logistic regression) would leave to gain.
FEATURES = ("reply", "reply+product", "tfidf", "tfidf+reply")
# The evaluate stage's replies the pool and held-out pairs read: the results run later added DPO replies to
# samples.jsonl; leaving them out keeps the pairs every cached curve and docs/acquire.md measured.
EVAL_POLICIES = ("sft", "rl")
TFIDF_MAX_FEATURES = 3000  # word 1-2 grams; more made each ensemble fit slower and the ceiling no higher


@dataclass
class Bench:
    """Everything a run needs, as arrays: reply features, pool tasks, bootstrap and held-out pair differences."""

    reply_vectors: np.ndarray  # [replies, d] MiniLM
    context_vectors: np.ndarray  # [contexts, d]
    reply_context: np.ndarray  # [replies] -> context index
    oracle: np.ndarray  # [replies] oracle score
    gold: np.ndarray  # [replies] bool
    pool: np.ndarray  # [tasks, 2] reply indices
    pool_groups: list[str]  # conversation of each pool task
    heldout: np.ndarray  # [pairs, 2] reply indices, oracle prefers column 0
    tfidf: np.ndarray  # [replies, <= TFIDF_MAX_FEATURES] word 1-2 gram TF-IDF, fitted on the pool's replies


def load_contexts() -> tuple[list[dict], list[dict]]:
    """(pool contexts, held-out contexts): each {conv_id, context, history, replies: [(text, is_gold)]}."""
    from empathic_rlhf.io import read_jsonl
    from empathic_rlhf.records import Task, history_texts, read_records
    from empathic_rlhf.splits import in_fraction

    pool, heldout = [], []
    for task in read_records(REPO / "runs/results/sample/tasks.jsonl", Task):
        replies = [(c.text, False) for c in task.candidates] + [(task.gold, True)]
        pool.append({"conv_id": task.conv_id, "prompt": [m.to_json() for m in task.prompt],
                     "history": history_texts(task.prompt), "replies": replies})
    for _, record in read_jsonl(REPO / "runs/results/evaluate/samples.jsonl"):
        replies = [(text, False) for policy in EVAL_POLICIES for text in record["all_replies"].get(policy, [])]
        replies.append((record["gold"], True))
        entry = {"conv_id": record["conv_id"], "prompt": record["prompt"], "history": history_texts(record["prompt"]),
                 "replies": replies}
        (heldout if in_fraction(record["conv_id"], 0.5, salt="acquire-bench") else pool).append(entry)
    for entry in pool + heldout:  # the same text twice in one context is no comparison: keep the first
        seen: set[str] = set()
        entry["replies"] = [(t, g) for t, g in entry["replies"] if not (t in seen or seen.add(t))]
    return pool, heldout


def oracle_scores(histories: list[list[str]], replies: list[str], cache: Path, oracle: str = "judged_empathy"
                  ) -> np.ndarray:
    """The ``oracle`` scorer's score of every reply (the judge by default), computed once and kept in ``cache``."""
    from empathic_rlhf.acquire.features import text_key

    keys = [text_key("\x00".join([*h, r])) for h, r in zip(histories, replies)]
    known = json.loads(cache.read_text()) if cache.is_file() else {}
    missing = [i for i, k in enumerate(keys) if k not in known]
    if missing:
        from empathic_rlhf.records import alternating_prompt
        from empathic_rlhf.scorers import column_scorer

        values = column_scorer(oracle)([alternating_prompt(histories[i]) for i in missing],
                                       [replies[i] for i in missing])
        known.update({keys[i]: float(v) for i, v in zip(missing, values)})
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(known))
        os.replace(tmp, cache)
    return np.array([known[k] for k in keys])


def tfidf_vectors(texts: list[str], fit_on: np.ndarray) -> np.ndarray:
    """Dense unit-norm word 1-2 gram TF-IDF rows of ``texts``, vocabulary and IDF fitted on ``texts[fit_on]`` only
    (the pool's replies: nothing of the held-out conversations leaks into the features)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=TFIDF_MAX_FEATURES)
    vectorizer.fit([texts[i] for i in np.flatnonzero(fit_on)])
    return vectorizer.transform(texts).toarray()


def build_bench(work: Path, oracle: str = "judged_empathy") -> Bench:
    from empathic_rlhf.acquire.features import CachedEmbedder, context_text, minilm_embedder

    pool_ctx, heldout_ctx = load_contexts()
    contexts = pool_ctx + heldout_ctx
    embed = CachedEmbedder(minilm_embedder, work / "embeddings")
    texts, owner, is_gold, histories = [], [], [], []
    for i, ctx in enumerate(contexts):
        for text, gold in ctx["replies"]:
            texts.append(text), owner.append(i), is_gold.append(gold), histories.append(ctx["history"])
    reply_vectors = embed(texts)
    context_vectors = embed([context_text(ctx["prompt"]) for ctx in contexts])
    cache = work / ("oracle.json" if oracle == "empathy" else f"oracle-{oracle}.json")  # older caches: empathy
    oracle = oracle_scores(histories, texts, cache, oracle)
    first = np.searchsorted(owner, np.arange(len(contexts)))
    pool, groups, heldout = [], [], []
    for i, ctx in enumerate(contexts):
        rows = range(first[i], first[i] + len(ctx["replies"]))
        for a, b in combinations(rows, 2):
            if i < len(pool_ctx):
                pool.append((a, b)), groups.append(ctx["conv_id"])
            elif abs(oracle[a] - oracle[b]) > 1e-9:
                heldout.append((a, b) if oracle[a] > oracle[b] else (b, a))
    tfidf = tfidf_vectors(texts, np.asarray(owner) < len(pool_ctx))
    return Bench(reply_vectors, context_vectors, np.array(owner), oracle, np.array(is_gold), np.array(pool), groups,
                 np.array(heldout), tfidf)


def with_linear_oracle(bench: Bench, kind: str, l2: float) -> Bench:
    """The same pool and held-out pairs, judged by a *linear* oracle in the model's own features: the Bradley-Terry
    weights fitted on every pool task with the empathy oracle's (noise-free) choices, so the oracle is the best the
    model class can represent of the empathy yardstick. A diagnostic: with it, the reward model is well specified,
    as the textbook setting of active learning assumes; with the empathy oracle it is not."""
    from empathic_rlhf.acquire.preference import fit_bradley_terry

    scores = bench.oracle[bench.pool]
    keep = scores[:, 0] != scores[:, 1]
    winners = np.where(scores[:, 0] > scores[:, 1], bench.pool[:, 0], bench.pool[:, 1])[keep]
    losers = np.where(scores[:, 0] > scores[:, 1], bench.pool[:, 1], bench.pool[:, 0])[keep]
    weights = fit_bradley_terry(features(bench, winners, kind) - features(bench, losers, kind),
                                np.ones(len(winners)), l2)
    oracle = features(bench, np.arange(len(bench.oracle)), kind) @ weights
    first_wins = oracle[bench.heldout[:, 0]] >= oracle[bench.heldout[:, 1]]
    heldout = np.where(first_wins[:, None], bench.heldout, bench.heldout[:, ::-1])
    return replace(bench, oracle=oracle, heldout=heldout)


def features(bench: Bench, rows: np.ndarray, kind: str) -> np.ndarray:
    """Feature rows of replies ``rows`` by ``kind`` (one of ``FEATURES``)."""
    from empathic_rlhf.acquire.features import candidate_features

    if kind == "tfidf":
        return bench.tfidf[rows]
    if kind == "tfidf+reply":  # both parts unit-norm, so neither dominates the L2 penalty
        return np.concatenate([bench.tfidf[rows], bench.reply_vectors[rows]], axis=1)
    return candidate_features(bench.reply_vectors[rows], bench.context_vectors[bench.reply_context[rows]], kind)


def annotator_draws(bench: Bench, seed: int, kappa: float, bias: float) -> np.ndarray:
    """The reply each pool task's (simulated) annotator prefers: one draw per task for this seed. ``kappa`` 1
    means noise-free: the oracle's choice (a tie by a coin), no position bias."""
    import random

    from empathic_rlhf.label.noisy_annotator import NoisyAnnotator, temperature_for_kappa

    rng = random.Random(seed)
    scores = bench.oracle[bench.pool]
    if kappa >= 1.0:
        coin = np.array([rng.random() < 0.5 for _ in range(len(bench.pool))])
        first_wins = (scores[:, 0] > scores[:, 1]) | ((scores[:, 0] == scores[:, 1]) & coin)
        return np.where(first_wins, bench.pool[:, 0], bench.pool[:, 1])
    annotator = NoisyAnnotator(temperature_for_kappa(scores.tolist(), kappa, bias), bias)
    chosen = np.empty(len(bench.pool), dtype=int)
    for t, (a, b) in enumerate(bench.pool):
        shown = [a, b] if rng.random() < 0.5 else [b, a]
        chosen[t] = shown[annotator.choose([bench.oracle[r] for r in shown], rng)]
    return chosen


def oracle_agreement(bench: Bench, chosen: np.ndarray) -> float:
    """Share of pool tasks whose drawn choice is the oracle's (on a tie the oracle's choice is the first reply)."""
    oracle_winner = np.where(bench.oracle[bench.pool[:, 0]] >= bench.oracle[bench.pool[:, 1]], bench.pool[:, 0],
                             bench.pool[:, 1])
    return float(np.mean(chosen == oracle_winner))


def bootstrap_pairs(bench: Bench) -> np.ndarray:
    """[n, 2] (gold, policy reply) of every pool task holding a gold reply: gold-vs-policy."""
    rows = [(a, b) if bench.gold[a] else (b, a) for a, b in bench.pool if bench.gold[a] != bench.gold[b]]
    return np.array(rows)
