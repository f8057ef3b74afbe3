"""Export formats (docs/design.md: Label and Pair), agreement numbers, and the model-comparison report."""

from __future__ import annotations

import json

import pytest
from label_helpers import make_tasks, request, write_tasks

from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.label import assign
from empathic_rlhf.label.auth import invite
from empathic_rlhf.label.tasks import import_tasks

LABEL_KEYS = {"task_id", "annotator", "source", "outcome", "best", "ratings", "edit", "shown_order", "seconds",
              "created_at"}


def annotator_id(store, name):
    from sqlalchemy import select

    from empathic_rlhf.label.models import Annotator
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
            assign.submit(s, aid, request(assignment_id=a.id, task_id=task.task_id,
                                          **decide(task.task_id, a.shown_order)), cfg)


def test_export_writes_records_and_pairs_only_through_pairs_from_label(store, cfg, tmp_path):
    from empathic_rlhf.label.export import export
    from empathic_rlhf.records import Label, Pair, Task, read_records

    tasks = make_tasks(3)
    tasks[0]["prompt"] = [{"role": "system", "content": "Emotion: sad."}, {"role": "user", "content": "I lost my job."},
                          {"role": "assistant", "content": "Oh no!"}, {"role": "user", "content": "Yes, after ten years."}]
    tasks[0]["candidates"][1]["text"] = "reply 2 to 0"  # same text as the chosen one: no pair against itself
    import_tasks(store, write_tasks(tmp_path / "t.jsonl", tasks), cfg)
    aid = annotator_id(store, "ann")
    choices = {"t0": {"outcome": "best", "best": "c2", "ratings": {"c2": {"empathy": 5, "relevance": 4}},
                      "edit": {"cand_id": "c2", "text": "Ten years! That must hurt."}, "seconds": 7.5},
               "t1": {"outcome": "tie"}, "t2": {"outcome": "skip"}}
    label_all(store, cfg, aid, lambda tid, order: choices[tid])
    counts = export(store, tmp_path / "out")
    assert (counts["labels"], counts["pairs"], counts["tasks"], counts["ties_and_skips"]) == (3, 2, 3, 2)
    labels = read_records(tmp_path / "out" / "labels.jsonl", Label)  # valid records.Label, strictly
    assert set(json.loads((tmp_path / "out" / "labels.jsonl").read_text().splitlines()[0])) == LABEL_KEYS
    assert all(rec.source == "human" and rec.annotator == "ann" and rec.created_at.endswith("+00:00") for rec in labels)
    first = labels[0]
    assert (first.task_id, first.outcome, first.best, first.seconds) == ("t0", "best", "c2", 7.5)
    assert first.to_json()["ratings"] == {"c2": {"empathy": 5, "relevance": 4}}
    assert sorted(first.shown_order) == ["c0", "c1", "c2"]
    assert [(r.outcome, r.best) for r in labels[1:]] == [("tie", None), ("skip", None)]
    stored_tasks = read_records(tmp_path / "out" / "tasks.jsonl", Task)
    assert [t.to_json() for t in stored_tasks] == [Task.model_validate(t).to_json() for t in tasks]
    pairs = read_records(tmp_path / "out" / "pairs.jsonl", Pair)
    assert all(p.prompt == stored_tasks[0].prompt for p in pairs)  # the prompt exactly as pi saw it
    assert [(p.chosen[0].content, p.rejected[0].content, p.edit, p.annotator) for p in pairs] == [
        ("reply 2 to 0", "reply 0 to 0", False, "ann"), ("Ten years! That must hurt.", "reply 2 to 0", True, "ann")]


def test_agreement_numbers_match_hand_computation(store, cfg, tmp_path):
    """Two annotators on 4 tasks with 2 candidates: they agree on 3 of 4.
    Hand computation: categories c0/c1; A = [c0,c0,c1,c1], B = [c0,c0,c1,c0]: p_o = .75,
    p_e = (2/4*3/4 + 2/4*1/4) = .5 -> Cohen's kappa = .5."""
    from empathic_rlhf.label.progress import stats

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
    from empathic_rlhf.label.progress import stats

    import_tasks(store, write_tasks(tmp_path / "t.jsonl", make_tasks(10, k=2)), cfg)
    aid = annotator_id(store, "lazy")
    label_all(store, cfg, aid, lambda tid, order: {"outcome": "best", "best": order[0]})  # always the first shown
    pb = stats(store)["position_bias"]
    assert (pb["best_labels"], pb["first_shown_wins"], pb["rate"], pb["expected"]) == (10, 10, 1.0, 0.5)
    assert pb["p_value"] == pytest.approx(2 * 0.5 ** 10)


def evaluation_rows(n, models=("sft", "rl", "dpo")):
    """What ``evaluate`` writes to samples.jsonl: one line per context, every model's reply."""
    return [{"sample_id": f"s{i}", "conv_id": f"c{i}", "emotion": "sad", "situation": "x", "reply_role": "listener",
             "prompt": [{"role": "system", "content": "Emotion: sad."}, {"role": "user", "content": f"hi {i}"}],
             "gold": f"gold {i}", "replies": {m: f"{m} says {i}" for m in models},
             "all_replies": {m: [f"{m} says {i}"] for m in models}} for i in range(n)]


def test_compare_build_from_evaluation_seeded_order(tmp_path):
    from empathic_rlhf.label.compare import build_tasks
    from empathic_rlhf.records import Task, read_records

    write_tasks(tmp_path / "samples.jsonl", evaluation_rows(40))
    assert build_tasks(tmp_path / "samples.jsonl", tmp_path / "cmp.jsonl", baseline="sft", seed=3) == 80
    tasks = read_records(tmp_path / "cmp.jsonl", Task)
    assert {t.sampling["compare"][0] for t in tasks} == {"dpo", "rl"} and all(
        t.sampling["compare"][1] == "sft" and t.kind == "model-comparison" for t in tasks)
    first = tasks[0]
    assert first.history[0].role == "speaker" and first.history[0].text == "hi 0" and first.gold == "gold 0"
    assert first.prompt[0].content == "Emotion: sad."  # pi's prompt, knowledge segment included
    baseline_first = sum(t.candidates[0].source == "sft" for t in tasks)
    assert 25 <= baseline_first <= 55  # a seeded coin per task (80 tasks), not always the same position
    build_tasks(tmp_path / "samples.jsonl", tmp_path / "again.jsonl", baseline="sft", seed=3)
    assert (tmp_path / "again.jsonl").read_text() == (tmp_path / "cmp.jsonl").read_text()  # same seed, same order
    build_tasks(tmp_path / "samples.jsonl", tmp_path / "gold.jsonl", baseline="sft", models=["gold"])
    assert {c.source for c in read_records(tmp_path / "gold.jsonl", Task)[0].candidates} == {"gold", "sft"}
    with pytest.raises(EmpathicError, match="baseline 'pi'"):
        build_tasks(tmp_path / "samples.jsonl", tmp_path / "x.jsonl", baseline="pi")


def test_compare_report_win_rates_against_baseline(store, cfg, tmp_path):
    from empathic_rlhf.label.compare import build_tasks, report

    write_tasks(tmp_path / "samples.jsonl", evaluation_rows(12, models=("sft", "rl")))
    build_tasks(tmp_path / "samples.jsonl", tmp_path / "cmp.jsonl", baseline="sft")
    import_tasks(store, tmp_path / "cmp.jsonl", cfg)
    with store.tx() as s:
        from sqlalchemy import select

        from empathic_rlhf.label.models import Task
        records = {t.task_id: t for t in s.scalars(select(Task)).all()}
    aid = annotator_id(store, "judge")
    # rl wins 9 tasks, sft 1, 2 ties; empathy: rl rated higher on all 12
    plan = {i: ("rl" if i < 9 else "sft" if i == 9 else None) for i in range(12)}

    def decide(tid, order):
        by_model = {c["source"]: c["cand_id"] for c in records[tid].record["candidates"]}
        winner = plan[int(tid.rsplit("s", 1)[1])]
        ratings = {by_model["sft"]: {"empathy": 2, "relevance": 3, "fluency": 3},
                   by_model["rl"]: {"empathy": 4, "relevance": 3, "fluency": 3}}
        return {"outcome": "best" if winner else "tie", "best": by_model.get(winner), "ratings": ratings}
    label_all(store, cfg, aid, decide)
    rows = {r["criterion"]: r for r in report(store)}
    overall = rows["overall"]
    assert (overall["model_a"], overall["model_b"]) == ("rl", "sft")  # the model first, the baseline second
    assert (overall["wins_a"], overall["wins_b"], overall["ties"], overall["n"]) == (9, 1, 2, 10)
    assert overall["win_rate_a"] == 0.9
    assert overall["p_value"] == pytest.approx(22 / 1024)  # 2 * P(X >= 9 | n=10, p=.5)
    assert overall["ci95"] == pytest.approx([0.5958, 0.9821], abs=1e-4)  # Wilson, z=1.96
    assert (rows["empathy"]["wins_a"], rows["empathy"]["n"]) == (12, 12)
    assert (rows["fluency"]["ties"], rows["fluency"]["n"], rows["fluency"]["p_value"]) == (12, 0, None)


def test_compare_tally_leaves_out_tasks_that_are_not_pairs():
    """A 3-candidate comparison task stored before imports refused them no longer breaks the report."""
    from empathic_rlhf.label.compare import summarise, tally

    three = {"candidates": [{"cand_id": c, "source": m} for c, m in zip("ABC", ("rl", "sft", "dpo"))]}
    two = {"candidates": [{"cand_id": "A", "source": "rl"}, {"cand_id": "B", "source": "sft"}],
           "sampling": {"compare": ["rl", "sft"]}}
    counts = tally([(three, "best", "C", {}), (two, "best", "A", {}), (two, "best", "B", {})])
    assert list(counts) == [("rl", "sft")] and counts[("rl", "sft")]["overall"] == [1, 1, 0]
    assert summarise(counts)[0]["p_value"] == 1.0


def test_compare_build_cli_reads_the_run_evaluation(tmp_path, monkeypatch, capsys):
    from empathic_rlhf import cli
    from empathic_rlhf.records import Task, read_records

    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "demo" / "evaluate").mkdir(parents=True)
    write_tasks(tmp_path / "runs" / "demo" / "evaluate" / "samples.jsonl", evaluation_rows(5))
    assert cli.main(["label", "compare", "build", "--models", "rl"]) == 0
    out = tmp_path / "runs" / "demo" / "label" / "compare_tasks.jsonl"
    assert "5 model-comparison tasks (each against sft)" in capsys.readouterr().out
    assert [t.task_id for t in read_records(out, Task)] == [f"cmp:rl:sft:s{i}" for i in range(5)]
    assert cli.main(["label", "import", str(out), "--label.calibration_fraction=0"]) == 0
    assert cli.main(["label", "compare", "build", "--models", "nope"]) == 2
    assert "'nope'" in capsys.readouterr().err
