"""The judge: its combination rule, and a fit model that learns relevance on planted data (real MiniLM)."""

import json

import numpy as np
import pytest

from empathic_rlhf.battery.probes import Context, GoldPool
from empathic_rlhf.judge.config import JudgeBuildConfig
from empathic_rlhf.judge.fit import train_fit_model, training_pairs
from empathic_rlhf.judge.scorer import COMBINATION_FILE, FIT_FOLDER, Judge, combine

THINGS = ["dog", "bicycle", "grandmother", "laptop", "garden", "wedding", "promotion", "apartment", "guitar",
          "car", "sister", "exam", "kitten", "boat", "novel", "marathon", "piano", "camera", "roof", "violin",
          "tractor", "passport", "telescope", "cousin"]
EVENTS = [("sad", "I lost my {t} last week and I keep thinking about it.", "Losing your {t} is hard. How are you holding up?"),
          ("proud", "I finally fixed up my {t} all by myself!", "You fixed the {t} yourself? That is impressive!"),
          ("afraid", "Something strange happened with my {t} last night.", "What happened with the {t}? Are you safe?")]


def planted(things, copies: int = 1) -> list[Context]:
    out = []
    for c in range(copies):
        for t in things:
            for e, (emotion, turn, gold) in enumerate(EVENTS):
                out.append(Context(f"{t}-{e}-{c}", emotion, (turn.format(t=t),), gold.format(t=t)))
    return out


def test_combination_rules_on_hand_made_numbers():
    fit, levels = np.array([0.0, 2.0, -2.0]), np.array([3.0, 0.0, 6.0])
    assert combine(fit, levels, {"kind": "fit"}).tolist() == [0.0, 2.0, -2.0]
    assert combine(fit, levels, {"kind": "additive", "weight": 0.5}).tolist() == [1.5, 2.0, 1.0]
    gated = combine(fit, levels, {"kind": "gated"})
    assert gated[0] == pytest.approx(0.5 * 4 / 7) and gated[2] == pytest.approx(1 / (1 + np.exp(2)))


def test_training_pairs_draw_other_replies_from_the_training_contexts_only():
    train = planted(THINGS[:16])
    pairs = training_pairs(train, negatives=2, seed=0)
    golds = {c.gold for c in train}
    assert len(pairs) > 1.5 * len(train)
    for pair in pairs:
        assert pair["chosen"] in golds and pair["rejected"] != pair["chosen"]
        if pair["kind"] in ("other_same_emotion", "other_emotion"):
            assert pair["rejected"] in golds  # never a held-out conversation's reply


def test_fit_model_learns_relevance_on_planted_data_and_the_judge_scores_with_it(tmp_path):
    config = JudgeBuildConfig(learning_rate=1e-4, batch_size=8, max_length=96, seed=0)
    # negatives of one kind: another conversation's reply (the one only reading the conversation can reject)
    train = planted(THINGS[:16], copies=2)
    pool = GoldPool(train)
    import random

    rng = random.Random(0)
    pairs = [{"history": list(c.history), "chosen": c.gold, "kind": "other_emotion",
              "rejected": pool.other_reply(c, rng, same_emotion=bool(i % 2))} for i, c in enumerate(train)]
    report = train_fit_model(pairs, config, tmp_path / "work", tmp_path / "judge" / FIT_FOLDER)
    assert report["pairs"] == len(pairs) and report["last_loss"] < report["first_loss"]
    (tmp_path / "judge" / COMBINATION_FILE).write_text(json.dumps({"rule": {"kind": "fit"}}))

    class NoEmpathy:  # the mechanism classifiers are not what this test is about
        def __call__(self, histories, replies):
            zeros = np.zeros(len(replies))
            return {"er": zeros, "ip": zeros, "ex": zeros}

    judge = Judge(tmp_path / "judge", empathy=NoEmpathy())
    held_out = planted(THINGS[16:])  # things never seen in training
    histories = [list(c.history) for c in held_out]
    gold = judge(histories, [c.gold for c in held_out])["context_fit"]
    shifted = [held_out[(i + 3) % len(held_out)].gold for i in range(len(held_out))]  # another thing, same event
    other = judge(histories, shifted)["context_fit"]
    wins = float(np.mean(gold > other))
    assert wins >= 0.8, f"gold beat another conversation's reply in only {wins:.2f} of held-out contexts"
