"""Export formats (DESIGN.md Label and Pair), agreement numbers, and the model-comparison report."""

from __future__ import annotations

import json

import pytest
from feedback_helpers import make_tasks, write_tasks

from empathic_rlhf.feedback import assign
from empathic_rlhf.feedback.auth import invite
from empathic_rlhf.feedback.tasks import import_tasks

LABEL_KEYS = {"task_id", "annotator", "source", "outcome", "best", "ratings", "edit", "shown_order", "seconds",
              "created_at"}


def annotator_id(store, name):
    from sqlalchemy import select

    from empathic_rlhf.feedback.models import Annotator
    invite(store, name)
    with store.tx() as s:
        return s.scalar(select(Annotator.id).where(Annotator.name == name))


def label_all(store, cfg, aid, decide):
    """Label every task the annotator gets; ``decide(task_id, shown_order)`` returns the payload fields."""
    while True:
        with store.tx() as s:
            found = assign.next_assignment(s, aid, cfg)
            if found is None:
                return
            a, task = found
            assign.submit(s, aid, {"assignment_id": a.id, **decide(task.task_id, a.shown_order)}, cfg)


def test_export_writes_design_label_and_trl_pairs(store, cfg, tmp_path):
    from empathic_rlhf.feedback.export import export

    tasks = make_tasks(3)
    tasks[0]["history"] = [{"role": "speaker", "text": "I lost my job."}, {"role": "listener", "text": "Oh no!"},
                           {"role": "speaker", "text": "Yes, after ten years."}]
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", tasks), cfg)
    aid = annotator_id(store, "ann")
    choices = {"t0": {"outcome": "best", "best": "c2", "ratings": {"c2": {"empathy": 5, "relevance": 4}},
                      "edit": {"cand_id": "c2", "text": "Ten years! That must hurt."}, "seconds": 7.5},
               "t1": {"outcome": "tie"}, "t2": {"outcome": "skip"}}
    label_all(store, cfg, aid, lambda tid, order: choices[tid])
    cfg.pair_knowledge = ["emotion"]
    counts = export(store, tmp_path / "out", cfg)
    assert counts == {"labels": 3, "pairs": 3, "tasks": 3}
    labels = [json.loads(x) for x in (tmp_path / "out" / "labels.jsonl").read_text().splitlines()]
    assert all(set(rec) == LABEL_KEYS and rec["source"] == "human" and rec["annotator"] == "ann" for rec in labels)
    assert all(rec["created_at"].endswith("+00:00") for rec in labels)  # UTC, stated
    first = labels[0]
    assert (first["task_id"], first["outcome"], first["best"], first["seconds"]) == ("t0", "best", "c2", 7.5)
    assert first["ratings"] == {"c2": {"empathy": 5, "relevance": 4}} and sorted(first["shown_order"]) == ["c0", "c1", "c2"]
    assert [(r["outcome"], r["best"]) for r in labels[1:]] == [("tie", None), ("skip", None)]
    pairs = [json.loads(x) for x in (tmp_path / "out" / "pairs.jsonl").read_text().splitlines()]
    assert pairs[0]["prompt"] == [{"role": "system", "content": "Emotion: sad."},
                                  {"role": "user", "content": "I lost my job."},
                                  {"role": "assistant", "content": "Oh no!"},
                                  {"role": "user", "content": "Yes, after ten years."}]
    assert [(p["chosen"][0]["content"], p["rejected"][0]["content"], p["source"]) for p in pairs] == [
        ("reply 2 to 0", "reply 0 to 0", "human"), ("reply 2 to 0", "reply 1 to 0", "human"),
        ("Ten years! That must hurt.", "reply 2 to 0", "human-edit")]
    assert all(set(p) == {"prompt", "chosen", "rejected", "task_id", "source"} and p["chosen"][0]["role"] ==
               "assistant" for p in pairs)


def test_agreement_numbers_match_hand_computation(store, cfg, tmp_path):
    """Two annotators on 4 tasks with 2 candidates: they agree on 3 of 4.
    Hand computation: categories c0/c1; A = [c0,c0,c1,c1], B = [c0,c0,c1,c0]: p_o = .75,
    p_e = (2/4*3/4 + 2/4*1/4) = .5 -> Cohen's kappa = .5."""
    from empathic_rlhf.feedback.report import stats

    cfg.overlap = 2
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(4, k=2)), cfg)
    want = {"A": ["c0", "c0", "c1", "c1"], "B": ["c0", "c0", "c1", "c0"]}
    for name in want:
        aid = annotator_id(store, name)
        label_all(store, cfg, aid, lambda tid, order, n=name: {"outcome": "best", "best": want[n][int(tid[1:])]})
    ag = stats(store)["agreement"]
    assert ag["overlapping_tasks"] == 4
    assert ag["cohen"] == [{"a": "A", "b": "B", "n": 4, "agreement": 0.75, "kappa": 0.5}]
    # Fleiss: p_j = (5/8, 3/8); P_e = .53125; P_bar = (1+1+1+0)/4 = .75 -> kappa = .21875/.46875 = 0.4667
    assert ag["fleiss"] == {"kappa": pytest.approx(0.4667, abs=1e-4), "tasks": 4, "raters": 2}
    # Krippendorff (nominal): n = 8 values, 5 x c0 and 3 x c1, one disagreeing unit: D_o = 2/8,
    # D_e = 2*5*3 / (8*7) -> alpha = 1 - D_o/D_e = 1 - 112/240 = 0.5333
    assert ag["krippendorff"]["alpha"] == pytest.approx(1 - 112 / 240, abs=1e-4)


def test_position_bias_counts_first_shown_wins(store, cfg, tmp_path):
    from empathic_rlhf.feedback.report import stats

    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(10, k=2)), cfg)
    aid = annotator_id(store, "lazy")
    label_all(store, cfg, aid, lambda tid, order: {"outcome": "best", "best": order[0]})  # always the first shown
    pb = stats(store)["position_bias"]
    assert (pb["best_labels"], pb["first_shown_wins"], pb["rate"], pb["expected"]) == (10, 10, 1.0, 0.5)
    assert pb["p_value"] == pytest.approx(2 * 0.5 ** 10)


def test_compare_build_and_report(store, cfg, tmp_path):
    from empathic_rlhf.feedback.compare import build_tasks, report

    def samples(model):
        return [{"sample_id": f"s{i}", "conv_id": f"c{i}", "emotion": "sad", "situation": "x",
                 "prompt": [{"role": "system", "content": "Emotion: sad."}, {"role": "user", "content": f"hi {i}"}],
                 "completion": [{"role": "assistant", "content": f"{model} says {i}"}]} for i in range(12)]
    write_tasks(tmp_path / "a.jsonl", samples("sft"))
    write_tasks(tmp_path / "b.jsonl", samples("rl"))
    assert build_tasks(tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "cmp.jsonl", "sft", "rl") == 12
    task = json.loads((tmp_path / "cmp.jsonl").read_text().splitlines()[0])
    assert task["kind"] == "model-comparison" and task["history"] == [{"role": "speaker", "text": "hi 0"}]
    import_tasks(store, tmp_path / "cmp.jsonl", cfg)
    aid = annotator_id(store, "judge")
    # rl (cand B) wins 9 tasks, sft 1, 2 ties; empathy: rl rated higher on all 12
    plan = {i: ("B" if i < 9 else "A" if i == 9 else None) for i in range(12)}

    def decide(tid, order):
        i = int(tid.rsplit("s", 1)[1])
        best = plan[i]
        return {"outcome": "best" if best else "tie", "best": best,
                "ratings": {"A": {"empathy": 2}, "B": {"empathy": 4}}}
    label_all(store, cfg, aid, decide)
    rows = {r["criterion"]: r for r in report(store)}
    overall = rows["overall"]
    assert (overall["model_a"], overall["model_b"]) == ("rl", "sft")  # names sorted
    assert (overall["wins_a"], overall["wins_b"], overall["ties"], overall["n"]) == (9, 1, 2, 10)
    assert overall["win_rate_a"] == 0.9
    assert overall["p_value"] == pytest.approx(22 / 1024)  # 2 * P(X >= 9 | n=10, p=.5)
    assert overall["ci95"] == pytest.approx([0.5958, 0.9821], abs=1e-4)  # Wilson, z=1.96
    assert (rows["empathy"]["wins_a"], rows["empathy"]["n"]) == (12, 12)
    assert rows["fluency"]["n"] == 0 and rows["fluency"]["p_value"] is None
