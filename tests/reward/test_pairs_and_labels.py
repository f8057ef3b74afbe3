from collections import Counter

import pytest

from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.reward.labels import Label, check_label
from empathic_rlhf.reward.pairs import pairs_from_label, prompt_messages
from empathic_rlhf.reward.sources import gold_lookup, gold_vs_policy, synthetic

TASK = {"task_id": "t1", "kind": "policy-samples", "conv_id": "c1", "emotion": "sad", "situation": "My dog died.",
        "history": [{"role": "speaker", "text": "My dog died."}, {"role": "listener", "text": "Oh no."},
                    {"role": "speaker", "text": "I miss him."}],
        "candidates": [{"cand_id": c, "text": f"reply {c}", "source": "pi"} for c in "abcd"]}


def test_best_of_4_gives_best_over_each_other():
    counts = Counter()
    pairs = pairs_from_label(TASK, Label("t1", "ann", "human", "best", best="c"), counts=counts)
    assert [(p["chosen"][0]["content"], p["rejected"][0]["content"]) for p in pairs] == [
        ("reply c", "reply a"), ("reply c", "reply b"), ("reply c", "reply d")]
    assert counts == Counter({"best": 1, "pairs": 3})
    assert pairs[0]["prompt"] == [{"role": "user", "content": "My dog died."},
                                  {"role": "assistant", "content": "Oh no."},
                                  {"role": "user", "content": "I miss him."}]


def test_ties_all_bad_and_skips_give_no_pairs_but_edits_do():
    counts = Counter()
    assert pairs_from_label(TASK, Label("t1", "a", "human", "tie"), counts=counts) == []
    assert pairs_from_label(TASK, Label("t1", "a", "human", "skip"), counts=counts) == []
    edited = pairs_from_label(TASK, Label("t1", "a", "human", "all_bad", edit={"cand_id": "b", "text": "So sad."}),
                              counts=counts)
    assert [(p["chosen"][0]["content"], p["rejected"][0]["content"]) for p in edited] == [("So sad.", "reply b")]
    assert counts["tie"] == counts["skip"] == counts["all_bad"] == counts["edit_pairs"] == 1


def test_chat_roles_in_history_map_the_same_way():
    task = {**TASK, "history": [{"role": "user", "text": "x"}, {"role": "assistant", "text": "y"},
                                {"role": "user", "text": "z"}]}
    assert prompt_messages(task) == prompt_messages(TASK) or [m["role"] for m in prompt_messages(task)] == [
        "user", "assistant", "user"]
    assert prompt_messages(TASK, "Emotion: sad.")[0] == {"role": "system", "content": "Emotion: sad."}


@pytest.mark.parametrize("record, message", [
    ({"task_id": "t", "annotator": "a", "source": "human", "outcome": "best"}, "needs 'best'"),
    ({"task_id": "t", "annotator": "a", "source": "human", "outcome": "meh"}, "outcome 'meh'"),
    ({"task_id": "t", "annotator": "a", "source": "crowd", "outcome": "tie"}, "source 'crowd'"),
    ({"task_id": "t", "source": "human", "outcome": "tie"}, "'annotator' is missing"),
])
def test_bad_labels_name_file_and_field(record, message):
    with pytest.raises(EmpathicError, match=f"labels.jsonl:3: .*{message}"):
        check_label("labels.jsonl", 3, record)


def test_gold_vs_policy_adds_gold_from_samples_and_prefers_it():
    samples = [{"conv_id": "c1", "prompt": [{"role": "user", "content": t["text"]} for t in TASK["history"]],
                "completion": [{"role": "assistant", "content": "I am so sorry."}]}]
    tasks, labels = gold_vs_policy([TASK], gold_lookup(samples))
    assert tasks[0]["candidates"][-1] == {"cand_id": "gold", "text": "I am so sorry.", "source": "gold"}
    assert labels == [Label("t1", "gold", "gold-vs-policy", "best", best="gold")]
    assert len(pairs_from_label(tasks[0], labels[0])) == 4


def test_synthetic_scorer_picks_best_and_reports_ties():
    (label,) = synthetic([TASK], lambda hs, rs: [float(r.endswith("c")) for r in rs], "endsc")
    assert label.best == "c" and label.source == "synthetic:endsc"
    (tie,) = synthetic([TASK], lambda hs, rs: [1.0] * len(rs), "flat")
    assert tie.outcome == "tie" and tie.best is None
