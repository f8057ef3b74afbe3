"""RL with the DYME reward alone moves the DYME reward up, by moving the metric DYME predicts.

A DYME is trained (the real ``fit_tables``) on synthetic conversations with one planted dynamic: an utterance is
about as long as the previous one (people answer in kind); every other metric is noise. After long user turns it
therefore expects a long reply, and a tiny GPT-2 policy (random, ~3-4 words per 8 tokens) trained by RLOO with
only ``rewards={dyme: 1}`` should both raise the held-out DYME reward and write replies with more words.
"""

import json
import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from empathic_rlhf.dyme.config import DymeConfig
from empathic_rlhf.dyme.features import EMBED_DIM
from empathic_rlhf.metrics.vector import METRIC_NAMES

LONG_TURNS = [
    "I finally got the job I wanted after three long years of trying so very hard.",
    "My old dog died last week and the house feels so empty and quiet without him now.",
    "We are moving abroad next month and I am worried about leaving all of my friends behind.",
    "I failed my driving test again today and I really do not know what I am doing wrong.",
    "My sister had a baby girl this morning and the whole family is at the hospital with her.",
    "Someone broke into my car last night and took my laptop with all of my work on it.",
]


def planted_conversations(n: int, rng) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Random embeddings; length follows the previous utterance's length (+-1 word), other metrics are noise."""
    embeddings, metrics = [], []
    for _ in range(n):
        t = int(rng.integers(3, 8))
        m = np.zeros((t, len(METRIC_NAMES)))
        m[:, METRIC_NAMES.index("sentiment")] = rng.uniform(-1, 1, t)
        m[:, METRIC_NAMES.index("question")] = rng.random(t) < 0.3
        m[:, METRIC_NAMES.index("similarity")] = rng.uniform(0, 0.6, t)
        m[:, METRIC_NAMES.index("word_repetition")] = rng.integers(0, 3, t)
        lengths = [int(rng.integers(1, 9))]  # 1-8 words: the range an 8-token tiny policy can reach
        for _ in range(t - 1):
            lengths.append(int(np.clip(lengths[-1] + rng.integers(-1, 2), 1, 8)))
        m[:, METRIC_NAMES.index("length")] = lengths
        embeddings.append(rng.normal(size=(t, EMBED_DIM)) / np.sqrt(EMBED_DIM))
        metrics.append(m)
    return embeddings, metrics


@pytest.fixture(scope="module")
def dyme_dir(tmp_path_factory):
    import torch

    from empathic_rlhf.dyme.model import save_model
    from empathic_rlhf.dyme.train import fit_tables

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    splits = {s: planted_conversations(n, rng) for s, n in (("train", 500), ("valid", 100), ("test", 100))}
    # the metric history carries the planted dynamic; random embeddings would only add noise to the inputs
    cfg = DymeConfig(max_history=3, feature_set="metrics", hidden_size=64, max_epochs=30, patience=4,
                     batch_size=64, learning_rate=3e-3, scale_quantile=1.0)
    model, scaler, report = fit_tables({s: v[0] for s, v in splits.items()}, {s: v[1] for s, v in splits.items()},
                                       METRIC_NAMES, cfg, log=lambda *_: None)
    length_mse = report["table"]["mse"]
    assert length_mse["dyme"]["length"] < 0.25 * length_mse["train_mean"]["length"]  # it learnt the dynamic
    out = tmp_path_factory.mktemp("dyme") / "model"
    save_model(out, model, scaler, METRIC_NAMES, cfg, input_dim=model[0].in_features)
    return out


@pytest.fixture(scope="module")
def rl_run(dyme_dir, tmp_path_factory):
    from empathic_rlhf.models.embedded import build_tiny_gpt2
    from empathic_rlhf.rl.config import RlConfig
    from empathic_rlhf.rl.rewards import component_reward
    from empathic_rlhf.rl.trainer import train_rl

    policy_dir = build_tiny_gpt2(tmp_path_factory.mktemp("tiny-local-bpe"), None)
    out = tmp_path_factory.mktemp("rl-dyme")
    config = RlConfig(beta=0.05, adaptive_kl=False, num_generations=4, prompts_per_step=4, max_completion_length=8,
                      learning_rate=1e-2, max_steps=64, eval_steps=32, eval_prompts=6, kl_budget=1e9,
                      mask_truncated_completions=False)
    prompts = [[{"role": "user", "content": t}] for t in LONG_TURNS] * 8
    summary = train_rl(config, str(policy_dir), prompts, prompts[:6], [component_reward("dyme", model_dir=str(dyme_dir))], [1.0],
                       out, seed=0)
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return summary, [r for r in log if "reward" in r], out, policy_dir


def test_dyme_predicts_a_long_reply_after_a_long_turn(dyme_dir):
    from empathic_rlhf.dyme.score import DymeScorer

    scorer = DymeScorer(dyme_dir)
    predicted = scorer.scaler.inverse(scorer.predict([[t] for t in LONG_TURNS]))
    assert (predicted[:, METRIC_NAMES.index("length")] > 7).all()  # the scale ends at 8 words


def replies_of(model_dir, k=6):
    from empathic_rlhf.generation.sampler import sample_replies

    return {t: sample_replies(str(model_dir), context=t, k=k, seed=1, max_new_tokens=8, temperature=1.0,
                              top_p=1.0) for t in LONG_TURNS}


def test_rl_with_dyme_reward_raises_the_dyme_reward_by_moving_the_predicted_metric(rl_run, dyme_dir):
    from empathic_rlhf.dyme.score import DymeScorer
    from empathic_rlhf.metrics.lexical import word_count

    summary, steps, out, policy_dir = rl_run
    heldout = {h["step"]: h["heldout_reward"] for h in summary["heldout"]}
    # logged rewards are standardised on pi's replies (rl.normalize_rewards): in units of pi's spread
    assert summary["reward_normalization"]["dyme"]["std"] < 0.05  # raw DYME spread: too small to use as is
    assert summary["kept"]["step"] > 0 and summary["kept"]["heldout_reward"] > heldout[0] + 0.3, heldout
    first = sum(r["reward"] for r in steps[:8]) / 8
    last = sum(r["reward"] for r in steps[-8:]) / 8
    assert last > first + 0.3, (first, last)
    # Independently of the training logs: fresh replies of pi and of the kept RL model, scored by DYME.
    scorer = DymeScorer(dyme_dir)
    outcome = {}
    for name, model_dir in (("pi", policy_dir), ("rl", out / "model")):
        replies = replies_of(model_dir)
        pairs = [(t, r) for t, rs in replies.items() for r in rs]
        outcome[name] = {"dyme": np.mean(scorer.reward([[t] for t, _ in pairs], [r for _, r in pairs])),
                         "words": np.mean([word_count(r) for _, r in pairs])}
    assert outcome["rl"]["dyme"] > outcome["pi"]["dyme"] + 0.01, outcome
    assert outcome["rl"]["words"] > outcome["pi"]["words"] + 1, outcome  # towards the ~8 words DYME expects
