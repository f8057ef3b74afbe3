"""Labels -> pairs (the one converter), label sources, and the split by conversation."""

from collections import Counter

import pytest

from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.records import Label, Task, as_dicts, parse_record, pairs_from_label
from empathic_rlhf.reward.pairs import build_pairs
from empathic_rlhf.reward.sources import GOLD_CAND, gold_vs_policy, synthetic

PROMPT = [{"role": "system", "content": "Emotion: sad."}, {"role": "user", "content": "My dog died."},
          {"role": "assistant", "content": "Oh no."}, {"role": "user", "content": "I miss him."}]
TASK = Task.model_validate({
    "task_id": "t1", "kind": "policy-samples", "conv_id": "c1", "emotion": "sad", "situation": "My dog died.",
    "prompt": PROMPT, "gold": "I am so sorry.",
    "history": [{"role": "speaker", "text": "My dog died."}, {"role": "listener", "text": "Oh no."},
                {"role": "speaker", "text": "I miss him."}],
    "candidates": [{"cand_id": c, "text": f"reply {c}", "source": "pi"} for c in "abcd"]})


def label(**fields) -> Label:
    return Label.model_validate({"task_id": "t1", "annotator": "ann", "source": "human", **fields})


def texts(pairs):
    return [(p.chosen[0].content, p.rejected[0].content) for p in pairs]


def test_best_of_4_gives_best_over_each_other_on_the_prompt_pi_saw():
    counts = Counter()
    pairs = pairs_from_label(TASK, label(outcome="best", best="c"), counts)
    assert texts(pairs) == [("reply c", "reply a"), ("reply c", "reply b"), ("reply c", "reply d")]
    assert counts == Counter({"best": 1, "pairs": 3})
    assert as_dicts(pairs[0].prompt) == PROMPT  # knowledge segment and roles exactly as π saw them


def test_ties_all_bad_and_skips_give_no_pairs_but_edits_of_the_chosen_reply_do():
    counts = Counter()
    assert pairs_from_label(TASK, label(outcome="tie"), counts) == []
    assert pairs_from_label(TASK, label(outcome="skip"), counts) == []
    assert pairs_from_label(TASK, label(outcome="all_bad"), counts) == []
    edited = pairs_from_label(TASK, label(outcome="best", best="b", edit={"cand_id": "b", "text": "So sad."}),
                              counts)
    assert texts(edited)[-1] == ("So sad.", "reply b") and edited[-1].edit and not edited[0].edit
    assert counts["tie"] == counts["skip"] == counts["all_bad"] == counts["edit_pairs"] == 1


def test_identical_texts_give_no_pair_and_comparison_tasks_give_none():
    twins = Task.model_validate({**TASK.model_dump(), "candidates": [
        {"cand_id": "a", "text": "Same."}, {"cand_id": "b", "text": "Same. "}, {"cand_id": "c", "text": "Other."}]})
    assert texts(pairs_from_label(twins, label(outcome="best", best="a"))) == [("Same.", "Other.")]
    comparison = Task.model_validate({**TASK.model_dump(), "kind": "model-comparison"})
    counts = Counter()
    assert pairs_from_label(comparison, label(outcome="best", best="a"), counts) == []
    assert counts["evaluation_only"] == 1


@pytest.mark.parametrize("record, message", [
    ({"outcome": "best"}, "outcome 'best' needs 'best'"),
    ({"outcome": "meh"}, "field 'outcome'"),
    ({"outcome": "tie", "source": "crowd"}, "source 'crowd'"),
    ({"outcome": "all_bad", "ratings": {"a": {"empathy": 3}}}, "takes no edit or ratings"),
    ({"outcome": "best", "best": "a", "edit": {"cand_id": "b", "text": "x"}}, "edit.cand_id must equal best"),
    ({"outcome": "best", "best": "a", "ratings": {"a": {"empathy": 9}}}, "field 'ratings.a.empathy'"),
    ({"outcome": "tie", "annotator": None}, "field 'annotator'"),
    ({"outcome": "tie", "colour": "red"}, "field 'colour'"),
])
def test_bad_labels_name_file_line_and_field(record, message):
    with pytest.raises(EmpathicError, match=f"labels.jsonl:3: .*{message}"):
        parse_record(Label, {"task_id": "t", "annotator": "a", "source": "human", **record}, "labels.jsonl", 3)


def test_gold_vs_policy_uses_the_tasks_own_gold_reply_and_prefers_it():
    tasks, labels = gold_vs_policy([TASK, Task.model_validate({**TASK.model_dump(), "task_id": "t2", "gold": None})])
    assert [t.task_id for t in tasks] == ["t1"]  # no gold reply: no bootstrap label
    assert tasks[0].candidates[-1].text == "I am so sorry." and tasks[0].candidates[-1].source == "gold"
    assert labels == [Label(task_id="t1", annotator="gold", source="gold-vs-policy", outcome="best",
                            best=GOLD_CAND)]
    assert len(pairs_from_label(tasks[0], labels[0])) == 4


def test_synthetic_scorer_picks_best_and_reports_ties():
    (picked,) = synthetic([TASK], lambda hs, rs: [float(r.endswith("c")) for r in rs], "endsc")
    assert picked.best == "c" and picked.source == "synthetic:endsc" and picked.synthetic
    (tie,) = synthetic([TASK], lambda hs, rs: [1.0] * len(rs), "flat")
    assert tie.outcome == "tie" and tie.best is None


def test_pairs_are_split_by_conversation():
    tasks = [Task.model_validate({**TASK.model_dump(), "task_id": f"t{i}", "conv_id": f"c{i // 2}"})
             for i in range(200)]
    labels = [Label(task_id=t.task_id, annotator="a", source="human", outcome="best", best="a") for t in tasks]
    pairs, counts = build_pairs(tasks, labels + [label(task_id="nope", outcome="tie")], 0.25)
    conv = {t.task_id: t.conv_id for t in tasks}
    train = {conv[p.task_id] for p in pairs["train"]}
    heldout = {conv[p.task_id] for p in pairs["heldout"]}
    assert not train & heldout and 0.15 < len(heldout) / 100 < 0.35
    assert counts["labels_without_task"] == 1 and len(pairs["train"]) + len(pairs["heldout"]) == 600
