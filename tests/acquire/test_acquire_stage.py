"""select_tasks from zero labels, labelled tasks not offered again, write_selection, the cache, the stage."""

from __future__ import annotations

import json

import pytest
from acquire_planted import FakeEmbedder, labelled_pairs, make_task, planted_pool

from empathic_rlhf.acquire import stage
from empathic_rlhf.acquire.config import AcquireConfig
from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.records import Task, read_records


def gold_pool(embed: FakeEmbedder, n: int = 10) -> list[Task]:
    """Tasks with a gold reply higher on axis 0 than both policy replies (the bootstrap's only signal)."""
    return [make_task(embed, f"g{i}", f"conv-{i}", i, [0.3 * (i % 3), 0.1 * i, 0, 0], [-0.5, -0.1 * i, 0, 0],
                      gold=[2.0, 0.0, 0.0, 0.0]) for i in range(n)]


def test_select_tasks_works_from_zero_human_labels():
    embed = FakeEmbedder()
    pool = gold_pool(embed)
    chosen = stage.select_tasks(pool, [], AcquireConfig(rule="bald", budget=4, min_distance=0.0), seed=0,
                                embed=embed)
    assert len(chosen) == 4
    scores = [score for _, score in chosen]
    assert scores == sorted(scores, reverse=True)
    assert all(score >= 0 for score in scores)
    assert len({task.task_id for task, _ in chosen}) == 4


def test_bootstrap_pairs_are_gold_over_each_policy_reply():
    embed = FakeEmbedder()
    pairs, weights = stage.training_pairs(gold_pool(embed, 3), [], bootstrap_weight=0.0)
    assert len(pairs) == 6 and list(weights) == [1.0] * 6  # nothing labelled: the bootstrap alone, at weight 1
    assert all(p.chosen[0].content.endswith("gold") and p.source == "gold-vs-policy" for p in pairs)
    human = labelled_pairs(embed, n=2)
    pairs, weights = stage.training_pairs(gold_pool(embed, 3), human, bootstrap_weight=0.25)
    assert len(pairs) == 4 + 6 and list(weights) == [1.0] * 4 + [0.25] * 6


def test_no_labels_and_no_gold_is_a_clear_error_but_random_still_works():
    embed = FakeEmbedder()
    pool = planted_pool(embed, clear=3, uncertain=0)
    with pytest.raises(EmpathicError, match="no labelled pairs and no task with a gold reply"):
        stage.select_tasks(pool, [], AcquireConfig(rule="ensemble", budget=2), seed=0, embed=embed)
    assert len(stage.select_tasks(pool, [], AcquireConfig(rule="random", budget=2), seed=0, embed=embed)) == 2


def test_labelled_tasks_are_not_offered_again():
    embed = FakeEmbedder()
    pool = planted_pool(embed, clear=3, uncertain=2)
    labelled = labelled_pairs(embed)
    labelled[0] = labelled[0].model_copy(update={"task_id": "unsure-0"})
    chosen = stage.select_tasks(pool, labelled, AcquireConfig(rule="random", budget=10, min_distance=0.0), seed=0,
                                embed=embed)
    assert sorted(t.task_id for t, _ in chosen) == ["clear-0", "clear-1", "clear-2", "unsure-1"]


def test_embeddings_are_cached_by_content(tmp_path):
    embed = FakeEmbedder()
    pool = gold_pool(embed, 4)
    config = AcquireConfig(rule="bald", budget=2, min_distance=0.0)
    first = stage.select_tasks(pool, [], config, seed=1, cache_dir=tmp_path, embed=embed)
    asked = embed.asked
    again = stage.select_tasks(pool, [], config, seed=1, cache_dir=tmp_path, embed=embed)
    assert asked == 4 + 4 * 3  # 4 contexts + 2 candidates and a gold reply per task, each embedded once
    assert embed.asked == asked  # the second call read every vector from the cache
    assert [(t.task_id, s) for t, s in first] == [(t.task_id, s) for t, s in again]


def test_write_selection_rereads_as_tasks(tmp_path):
    embed = FakeEmbedder()
    config = AcquireConfig(rule="ensemble", budget=3, min_distance=0.0)
    chosen = stage.select_tasks(gold_pool(embed), [], config, seed=0, embed=embed)
    summary = stage.write_selection(tmp_path / "acquire", chosen, config)
    tasks = read_records(tmp_path / "acquire" / "tasks.jsonl", Task)
    assert tasks == [task for task, _ in chosen]
    lines = [json.loads(line) for line in (tmp_path / "acquire" / "scores.jsonl").read_text().splitlines()]
    assert lines == [{"task_id": t.task_id, "score": s, "rule": "ensemble"} for t, s in chosen]
    assert summary["tasks"] == 3 and summary["rule"] == "ensemble" and summary["conversations"] == 3
    assert sorted(p.name for p in (tmp_path / "acquire").iterdir()) == ["scores.jsonl", "tasks.jsonl"]


@pytest.mark.parametrize("source, kept", [("auto", "human"), ("human", "human"),
                                          ("simulated", "synthetic:empathy")])
def test_people_and_simulated_labels_never_mix(tmp_path, source, kept):
    """acquire reads the app's export: auto/human take people's labels only, simulated only the simulated ones;
    the others are left out and counted."""
    from empathic_rlhf.records import Label, write_records
    from empathic_rlhf.rundir import RunDir

    embed = FakeEmbedder()
    pool = gold_pool(embed, 4)
    run = RunDir(tmp_path / "run")
    labels = [Label(task_id="g0", annotator="ann", source="human", outcome="best", best="A"),
              Label(task_id="g1", annotator="sim:empathy:0", source="synthetic:empathy", outcome="best", best="B")]
    write_records(run.stage_dir("label") / "labels.jsonl", labels)
    pairs, counts = stage.labelled_pairs(AcquireConfig(labels=source), run, pool)
    assert {p.source for p in pairs} == {kept}
    assert [p.task_id for p in pairs] == (["g0"] if kept == "human" else ["g1"])
    assert counts["left_out"] == 1 and counts["human"] == 1 and counts["synthetic:empathy"] == 1
