"""A batch is spread over conversations and contexts."""

from __future__ import annotations

import numpy as np
from acquire_planted import FakeEmbedder, make_task

from empathic_rlhf.acquire.config import AcquireConfig
from empathic_rlhf.acquire.diversity import diverse_top
from empathic_rlhf.acquire.stage import select_tasks


def test_at_most_max_per_group_in_score_order():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    groups = ["a", "a", "a", "b", "b", "c"]
    assert diverse_top(scores, groups, None, 10, max_per_group=1, min_distance=0.0) == [0, 3, 5]
    assert diverse_top(scores, groups, None, 10, max_per_group=2, min_distance=0.0) == [0, 1, 3, 4, 5]
    assert diverse_top(scores, groups, None, 2, max_per_group=2, min_distance=0.0) == [0, 1]


def test_near_copies_of_a_chosen_context_are_skipped():
    near = np.array([1.0, 0.01, 0.0])
    contexts = np.stack([[1.0, 0.0, 0.0], near / np.linalg.norm(near), [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    groups = ["a", "b", "c", "d"]
    assert diverse_top(scores, groups, contexts, 3, max_per_group=5, min_distance=0.01) == [0, 2, 3]
    assert diverse_top(scores, groups, contexts, 3, max_per_group=5, min_distance=0.0) == [0, 1, 2]


def test_select_tasks_caps_tasks_per_conversation():
    embed = FakeEmbedder()
    # 5 conversations x 4 tasks (one context each), all equally clear: the cap decides the spread
    pool = [make_task(embed, f"c{c}-t{t}", f"conv-{c}", 10 * c + t, [1.0, 0.1 * t, 0, 0], [-1.0, 0, 0, 0],
                      gold=[2.0, 0, 0, 0]) for c in range(5) for t in range(4)]
    config = AcquireConfig(rule="random", budget=12, max_per_conversation=2, min_distance=0.0)
    chosen = select_tasks(pool, [], config, seed=3, embed=embed)
    per_conversation = [sum(task.conv_id == f"conv-{c}" for task, _ in chosen) for c in range(5)]
    assert per_conversation == [2] * 5  # the budget of 12 cannot be met: 5 conversations x 2
