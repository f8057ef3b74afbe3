"""Throughput of the utterance metrics and the static reward on CPU (replies per second).

    python benchmarks/static_reward_speed.py [--n 2000] [--threads 1] [--data-dir DIR]

Inputs are (history, reply) pairs from the ED test split when a data directory is set (--data-dir or
$EMPATHIC_DATA_DIR), else a built-in set of dialogue lines. Word-set caches are cleared before every timing, so
no row profits from having seen the replies before. Prints a table and ratios; the lexical metrics and the
embedding-based similarity are timed separately because they differ by orders of magnitude.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

FALLBACK = [
    "Hey!", "Hi, how are you?", "Fine, and you?", "I just finished watching a very bad movie...",
    "Oh no, what was it about?", "A man who loses his dog and never finds it. So sad.",
    "That sounds terrible. Why did you watch it?", "My friend picked it, I should have said no.",
]


def pairs(n: int, data_dir: str | None):
    from empathic_rlhf.paths import data_dir_setting

    if data_dir_setting(data_dir):
        from empathic_rlhf.dyme.data import load_split

        conversations = load_split(data_dir, "test")
    else:
        conversations = [FALLBACK[i:] + FALLBACK[:i] for i in range(len(FALLBACK))]
    histories, replies = [], []
    while len(replies) < n:
        for conv in conversations:
            for t in range(1, len(conv)):
                histories.append(conv[:t])
                replies.append(conv[t])
        if not conversations:
            break
    return histories[:n], replies[:n]


def timed(fn, repeats: int = 3) -> float:
    from empathic_rlhf.metrics import lexical

    best = float("inf")
    for _ in range(repeats):
        lexical._content_set.cache_clear()
        lexical._union_of.cache_clear()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="Replies per timing (similarity uses n/4).")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the sentence encoder.")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from empathic_rlhf.metrics import lexical
    from empathic_rlhf.metrics.config import StaticRewardConfig
    from empathic_rlhf.metrics.encoder import load_encoder
    from empathic_rlhf.metrics.static_reward import StaticReward
    from empathic_rlhf.metrics.toxicity import toxicity_batch
    from empathic_rlhf.metrics.vector import similarity_batch

    histories, replies = pairs(args.n, args.data_dir)
    n_sim = max(args.n // 4, 1)
    analyzer = lexical._vader()
    toxicity_batch(replies[:2])  # load the classifier outside the timings
    load_encoder()

    rows = [
        ("sentiment (VADER)", len(replies), lambda: [analyzer.polarity_scores(r) for r in replies]),
        ("question + repetition family + length", len(replies),
         lambda: [(lexical.question(h, r), lexical.conversation_repetition(h, r), lexical.self_repetition(h, r),
                   lexical.utterance_repetition(h, r), lexical.word_repetition(h, r), lexical.length(h, r))
                  for h, r in zip(histories, replies)]),
        ("all lexical metrics, batched", len(replies), lambda: lexical.lexical_metrics(histories, replies)),
        ("toxicity (alt-profanity-check)", len(replies), lambda: toxicity_batch(replies)),
        ("static reward without similarity", len(replies),
         lambda: StaticReward(StaticRewardConfig(similarity_weight=0.0))(histories, replies)),
        (f"similarity (MiniLM, {args.threads} thread)", n_sim,
         lambda: similarity_batch(histories[:n_sim], replies[:n_sim])),
        ("static reward, all five terms", n_sim, lambda: StaticReward()(histories[:n_sim], replies[:n_sim])),
    ]
    results = [(name, count / timed(fn, 3 if count >= 1000 else 1)) for name, count, fn in rows]
    full = results[-1][1]
    source = "ED test" if len(set(replies)) > len(FALLBACK) else "built-in lines"
    print(f"\n{len(replies)} (history, reply) pairs from {source}; best of 3 runs; CPU threads for torch: "
          f"{args.threads}\n")
    print(f"| {'what':<42} | {'replies/s':>10} | {'x full reward':>13} |")
    print(f"|{'-' * 44}|{'-' * 12}:|{'-' * 14}:|")
    for name, rate in results:
        print(f"| {name:<42} | {rate:>10,.0f} | {rate / full:>12.1f}x |")
    lexical_rate = dict(results)["all lexical metrics, batched"]
    similarity_rate = results[-2][1]
    print(f"\nlexical metrics are {lexical_rate / similarity_rate:,.0f}x faster than the embedding similarity; "
          f"the full reward runs at the similarity's pace.")


if __name__ == "__main__":
    main()
