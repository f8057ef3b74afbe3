"""Each acquisition rule picks the planted uncertain tasks; random does not do so systematically."""

from __future__ import annotations

import numpy as np
import pytest
from acquire_planted import FakeEmbedder, labelled_pairs, planted_pool

from empathic_rlhf.acquire.config import AcquireConfig
from empathic_rlhf.acquire.rules import acquisition_scores, entropy, expected_predictive_information_gain
from empathic_rlhf.acquire.stage import select_tasks


def chosen_ids(rule: str, *, coin: int = 0, seed: int = 0, budget: int = 4) -> list[str]:
    embed = FakeEmbedder()
    pool = planted_pool(embed, coin=coin)
    config = AcquireConfig(rule=rule, budget=budget, ensemble_size=8, min_distance=0.0, l2=10.0)
    return [task.task_id for task, _ in select_tasks(pool, labelled_pairs(embed), config, seed=seed, embed=embed)]


@pytest.mark.parametrize("rule", ["bt-half", "ensemble", "bald", "epig"])
def test_each_rule_picks_the_planted_uncertain_tasks(rule):
    assert sorted(chosen_ids(rule)) == [f"unsure-{i}" for i in range(4)]


@pytest.mark.parametrize("rule", ["ensemble", "bald", "epig"])
def test_disagreement_rules_skip_coin_tosses_that_bt_half_takes(rule):
    # identical replies: every member says 1/2, so bt-half ranks them first; the ensemble agrees on them, so a
    # label there teaches it nothing and the disagreement rules rank the axis-1 tasks first.
    assert all(t.startswith("coin") for t in chosen_ids("bt-half", coin=4))
    assert sorted(chosen_ids(rule, coin=4)) == [f"unsure-{i}" for i in range(4)]


def test_random_does_not_prefer_the_uncertain_tasks():
    # 4 of 16 tasks are planted: over 40 seeds random picks them at about the base rate 1/4.
    picks = [t.startswith("unsure") for seed in range(40) for t in chosen_ids("random", seed=seed)]
    assert len(picks) == 160
    assert 0.15 < np.mean(picks) < 0.35


def test_scores_on_hand_made_probabilities():
    # task 0: members agree p=0.9; task 1: coin toss, all members 0.5; task 2: members split 0.9 / 0.1
    member_p = np.array([[0.9] * 4, [0.5] * 4, [0.9, 0.1, 0.9, 0.1]])
    probabilities = np.stack([member_p, 1 - member_p], axis=2)  # [T, M, 2]
    rng = np.random.default_rng(0)
    half = acquisition_scores("bt-half", probabilities, rng)
    np.testing.assert_allclose(half, [1 - 0.8, 1.0, 1.0])
    variance = acquisition_scores("ensemble", probabilities, rng)
    np.testing.assert_allclose(variance, [0.0, 0.0, 2 * 0.16])
    bald = acquisition_scores("bald", probabilities, rng)
    h = float(entropy(np.array([0.9, 0.1])))
    np.testing.assert_allclose(bald, [0.0, 0.0, np.log(2) - h], atol=1e-12)


def test_epig_on_hand_made_probabilities():
    # the same three tasks as above, each also a target: only the split task informs a target (itself), because
    # members that agree, or all say 1/2, make the target's label independent of the task's.
    member_p = np.array([[0.9] * 4, [0.5] * 4, [0.9, 0.1, 0.9, 0.1]])
    probabilities = np.stack([member_p, 1 - member_p], axis=2)
    same, cross = 0.5 * 0.9 * 0.9 + 0.5 * 0.1 * 0.1, 0.9 * 0.1  # joint of two labels of the split task
    information = 2 * same * np.log(same / 0.25) + 2 * cross * np.log(cross / 0.25)
    np.testing.assert_allclose(expected_predictive_information_gain(probabilities, probabilities),
                               [0.0, 0.0, information / 3], atol=1e-12)
    # every task of a pool of three is a target: the rule gives the same numbers
    np.testing.assert_allclose(acquisition_scores("epig", probabilities, np.random.default_rng(0)),
                               [0.0, 0.0, information / 3], atol=1e-12)


def test_epig_prefers_the_task_that_informs_the_targets_over_an_outlier():
    # members disagree on two tasks equally (same BALD), but only task 0's disagreement is shared by the
    # targets: members 0,1 vs 2,3 split on task 0 and on the targets; on task 1 members 0,2 vs 1,3 split
    # (an axis no target depends on).
    task_p = np.array([[0.9, 0.9, 0.1, 0.1], [0.9, 0.1, 0.9, 0.1]])
    target_p = np.array([[0.8, 0.8, 0.2, 0.2]] * 5)
    as_probabilities = lambda p: np.stack([p, 1 - p], axis=2)  # noqa: E731
    rng = np.random.default_rng(0)
    bald = acquisition_scores("bald", as_probabilities(task_p), rng)
    assert bald[0] == pytest.approx(bald[1])
    epig = expected_predictive_information_gain(as_probabilities(task_p), as_probabilities(target_p))
    assert epig[0] > 0.1 and epig[1] == pytest.approx(0.0, abs=1e-12)


def test_three_candidate_task_is_scored_over_its_choice():
    # one task with 3 candidates: members agree A is worst but split between B and C -> positive disagreement
    probabilities = np.array([[[0.0, 0.9, 0.1], [0.0, 0.1, 0.9]]])
    rng = np.random.default_rng(0)
    assert acquisition_scores("bt-half", probabilities, rng)[0] == pytest.approx(1.0)
    assert acquisition_scores("bald", probabilities, rng)[0] == pytest.approx(
        np.log(2) - float(entropy(np.array([0.9, 0.1]))))


def test_unknown_rule_is_an_error():
    with pytest.raises(ValueError, match="unknown acquisition rule 'nope'"):
        acquisition_scores("nope", np.zeros((1, 2, 2)), np.random.default_rng(0))
