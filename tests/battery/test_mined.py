"""Stock replies mined from training golds: frequent short replies only, none touching a BATTERY phrase."""

from empathic_rlhf.battery.mined import mine_phrases, widened
from empathic_rlhf.battery.phrases import BATTERY, TRAINING
from empathic_rlhf.battery.probes import normalised

GOLDS = (["That is awesome!"] * 5 + ["that is awesome"] * 2 + ["Why not?"] * 3 + ["How come?"] * 4
         + ["I'm sorry to hear that."] * 9  # shares most words with BATTERY's "I'm so sorry to hear that."
         + ["Good luck!"] * 9  # a BATTERY phrase itself
         + ["Good luck with the interview!"] * 6  # contains one
         + ["Seen once only."] + ["12"] * 4  # too rare; no letters
         + ["That is a very long reply that tells the person exactly what I think about it all."] * 5)


def test_mined_replies_are_frequent_short_and_never_touch_a_battery_phrase():
    stock, questions = mine_phrases(GOLDS, top=10)
    assert stock == ["That is awesome!", "How come?", "Why not?"]  # 7, 4, 3 times; the surface form most written
    assert questions == ["How come?", "Why not?"]
    assert mine_phrases(GOLDS, top=1) == (["That is awesome!"], ["How come?"])
    battery = {normalised(p) for p in (*BATTERY.stock, *BATTERY.questions)}
    assert not battery & {normalised(p) for p in stock + questions}


def test_widened_adds_the_mined_lists_to_the_training_phrases_and_zero_keeps_them():
    phrases, mined = widened(TRAINING, GOLDS, top=10)
    assert phrases.stock == (*TRAINING.stock, *mined["stock"])
    assert mined["questions"] == ["Why not?"]  # "How come?" is a TRAINING question already: not added twice
    assert phrases.questions == (*TRAINING.questions, "Why not?")
    assert widened(TRAINING, GOLDS, top=0) == (TRAINING, {"stock": [], "questions": []})
