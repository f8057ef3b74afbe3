"""The judge: its combination rule, and a fit model that learns relevance on planted data (real MiniLM)."""

import json

import numpy as np
import pytest

from empathic_rlhf.battery.probes import Context, GoldPool
from empathic_rlhf.judge.config import JudgeBuildConfig
from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.judge.fit import kind_weights, train_fit_model, training_pairs
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


def test_negative_weights_replace_the_kinds_they_name_and_an_unknown_kind_is_an_error():
    weights = kind_weights({kind: 0.0 for kind in ("other_same_emotion", "other_emotion", "gold_plus_question",
                                                   "parrot", "emotion_template", "shuffled", "half", "repeated",
                                                   "degenerate", "empty", "wrong_tone", "as_person")})
    assert weights["stock"] == 0.10  # the kind not named keeps its TRAINING_WEIGHTS entry
    pairs = training_pairs(planted(THINGS[:8]), seed=0, weights=weights)
    assert len(pairs) == 24 and {pair["kind"] for pair in pairs} == {"stock"}
    with pytest.raises(EmpathicError, match="unknown probe kind.*stok"):
        kind_weights({"stok": 0.5})
    with pytest.raises(EmpathicError, match="not all 0"):
        kind_weights(dict.fromkeys(weights, 0.0))


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

    # a build with warm_start goes on from the trained model (here: the judge folder), not from MiniLM afresh
    from dataclasses import replace

    warm = train_fit_model(pairs, replace(config, warm_start=str(tmp_path / "judge")), tmp_path / "work2",
                           tmp_path / "judge2" / FIT_FOLDER)
    assert warm["first_loss"] < 0.5 * report["first_loss"]


def test_judge_build_rejects_bad_settings_in_one_line_before_reading_data(tmp_path, capsys):
    from empathic_rlhf.cli import main

    assert main(["judge", "build", "--out", str(tmp_path / "j"), "--judge.negative_weights={stok: 1}"]) == 2
    assert main(["judge", "build", "--out", str(tmp_path / "j"), f"--judge.warm_start={tmp_path / 'none'}"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and "unknown probe kind(s) stok" in lines[0] and "no built judge here" in lines[1]
    assert not (tmp_path / "j").exists()


def test_a_judge_built_before_a_field_was_added_counts_as_built_with_its_default():
    from dataclasses import asdict

    from empathic_rlhf.judge.commands import built_with

    saved = asdict(JudgeBuildConfig())
    for added_later in ("negative_weights", "mined_phrases", "warm_start", "epitome_contexts"):
        saved.pop(added_later)
    assert built_with(saved, JudgeBuildConfig())
    assert not built_with(saved, JudgeBuildConfig(mined_phrases=300))
    assert not built_with(saved | {"seed": 1}, JudgeBuildConfig())


def test_epitome_training_contexts_come_from_its_train_split_and_draw_negatives_among_themselves(tmp_path,
                                                                                                monkeypatch):
    from empathic_rlhf.empathy.epitome import load_examples, split_examples
    from empathic_rlhf.judge.build import epitome_training_contexts
    from tests.empathy.planted_empathy import write_planted_epitome

    monkeypatch.setenv("EMPATHIC_EPITOME_DIR", str(write_planted_epitome(tmp_path / "epitome")))
    splits = split_examples(load_examples())

    class Emotions:  # what the emotion classifier would read from each post
        def predict_emotion(self, histories):
            return [("sad" if "1" in h[-1] else "proud", 0.9) for h in histories]

    contexts = epitome_training_contexts(10_000, Emotions())
    train_responses = {p.response for p in splits["train"]}
    held_out_only = {p.response for p in splits["valid"] + splits["test"]} - train_responses
    assert [c.gold for c in contexts] == [p.response for p in splits["train"]]
    assert {c.emotion for c in contexts} == {"sad", "proud"}
    pairs = training_pairs(contexts, negatives=3, seed=0)
    others = [p["rejected"] for p in pairs if p["kind"] in ("other_same_emotion", "other_emotion")]
    assert held_out_only and others and set(others) <= train_responses  # no valid/test reply is ever drawn
    assert len(epitome_training_contexts(5, Emotions())) == 5
