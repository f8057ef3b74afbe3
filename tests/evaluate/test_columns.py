"""The evaluation table's reward-hacking columns (stock share, near-copies across contexts, question rate) on
hand-made replies: per-context means, the gold row, and the paired difference against the baseline."""

import numpy as np
import pytest

from empathic_rlhf.evaluate.run import per_context
from empathic_rlhf.evaluate.table import build_table, markdown_table
from empathic_rlhf.records import Sample

CONTEXTS = ["My dog died last week.", "I got the job I wanted!", "My sister is visiting tomorrow."]
GOLD = ["Oh no, how old was he?", "Congratulations, you worked hard for that.", "That will be fun, what will you do?"]


def samples() -> list[Sample]:
    return [Sample(sample_id=f"s{i}", conv_id=f"c{i}", emotion="sad", prompt=[{"role": "user", "content": context}],
                   completion=[{"role": "assistant", "content": gold}])
            for i, (context, gold) in enumerate(zip(CONTEXTS, GOLD))]


# two replies per context: a stock phrase given everywhere (a stock reply, a near-copy, a question) and a reply
# that answers this context only
STOCK = "I'm so sorry to hear that. What happened?"
POLICY = [[STOCK, "Losing a dog is so hard."], [STOCK, "Congratulations on the new job!"],
          [STOCK, "Nice, is she staying long?"]]


def test_hacking_columns_are_per_context_shares_of_hand_made_replies():
    values = per_context({}, samples(), POLICY)["values"]
    assert values["stock"].tolist() == [0.5, 0.5, 0.5]
    assert values["near_copy"].tolist() == [0.5, 0.5, 0.5]  # the same stock reply in three contexts
    assert values["question"].tolist() == [0.5, 0.5, 1.0]  # the stock reply asks, so does "is she staying long?"
    gold = per_context({}, samples(), [[g] for g in GOLD])["values"]
    assert gold["stock"].tolist() == [0.0, 0.0, 0.0] and gold["near_copy"].tolist() == [0.0, 0.0, 0.0]
    assert gold["question"].tolist() == [1.0, 0.0, 1.0]


def test_a_near_copy_is_a_reply_given_to_another_context_not_a_repeat_within_one():
    repeated = [["Losing a dog is so hard.", "Losing a dog is so hard."], ["Well done, Sam!", "You earned it, Sam!"],
                ["Have fun with her.", "Have fun with her!"]]
    values = per_context({}, samples(), repeated)["values"]
    assert values["near_copy"].tolist() == [0.0, 0.0, 0.0]
    assert values["stock"].tolist() == [0.0, 0.0, 0.0]


def test_the_table_carries_the_columns_for_every_model_and_gold_with_paired_differences():
    s = samples()
    # π: "Oh no." is on the stock list, the other two are not
    results = {"sft": {"path": "pi", **per_context({}, s, [["Oh no."], ["Great job, Sam!"], ["Fun, enjoy it."]])},
               "rl": {"path": "rl", **per_context({}, s, POLICY)},
               "gold": {"path": None, "reference": True, **per_context({}, s, [[g] for g in GOLD])}}
    table = build_table(results, baseline="sft", n_contexts=3, resamples=200)
    rows = {row["model"]: row["metrics"] for row in table["rows"]}
    assert set(rows) == {"sft", "rl", "gold"}
    assert rows["rl"]["stock"]["mean"] == pytest.approx(0.5) and rows["sft"]["stock"]["mean"] == pytest.approx(1 / 3)
    assert rows["rl"]["near_copy"]["mean"] == pytest.approx(0.5)
    assert rows["gold"]["question"]["mean"] == pytest.approx(2 / 3)
    assert rows["rl"]["question"]["mean"] == pytest.approx(2 / 3) and rows["sft"]["question"]["mean"] == 0.0
    # rl - sft on the same contexts: stock -0.5, +0.5, +0.5
    assert table["vs_baseline"]["rl"]["stock"]["diff"] == pytest.approx(0.5 / 3)
    assert table["vs_baseline"]["rl"]["question"]["diff"] == pytest.approx(2 / 3)
    text = markdown_table(table)
    for column in ("stock", "near_copy", "question"):
        assert column in text
