"""The statistics behind every reported number, on hand-made numbers with known answers."""

import math

import numpy as np
import pytest

from empathic_rlhf.stats import mean_ci, paired_difference, paired_statistic, proportion_ci, statistic_ci


def test_mean_ci_of_a_constant_is_a_point_and_covers_the_mean():
    assert mean_ci([2.0] * 10) == {"mean": 2.0, "lo": 2.0, "hi": 2.0, "se": 0.0, "n": 10}
    values = np.random.default_rng(1).normal(5.0, 1.0, size=400)
    m = mean_ci(values)
    # the bootstrap interval of a mean is close to mean +- 1.96 SE
    assert m["se"] == pytest.approx(values.std(ddof=1) / 20)
    assert m["lo"] == pytest.approx(values.mean() - 1.96 * m["se"], abs=0.3 * m["se"])
    assert m["hi"] == pytest.approx(values.mean() + 1.96 * m["se"], abs=0.3 * m["se"])


def test_paired_difference_known_t_test():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    b = a + np.array([0.5, 1.5, 0.5, 1.5, 1.0])  # differences: mean 1.0, sd sqrt(0.25)=0.5
    d = paired_difference(a, b)
    assert d["diff"] == pytest.approx(1.0) and d["n"] == 5
    se = 0.5 / math.sqrt(5)
    assert d["se"] == pytest.approx(se)
    from scipy.stats import ttest_rel

    assert d["p"] == pytest.approx(ttest_rel(b, a).pvalue)
    assert d["mde"] == pytest.approx((1.959964 + 0.841621) * se, rel=1e-5)


def test_pairing_sees_a_small_shift_that_independent_means_would_miss():
    rng = np.random.default_rng(0)
    context_difficulty = rng.normal(0, 3, size=300)  # shared by both models: pairing removes it
    a = context_difficulty + rng.normal(0, 0.2, size=300)
    b = context_difficulty + 0.1 + rng.normal(0, 0.2, size=300)
    d = paired_difference(a, b)
    assert d["p"] < 1e-6 and d["lo"] > 0
    separate = mean_ci(b)
    assert separate["lo"] < a.mean()  # the unpaired intervals overlap


def test_no_difference_is_not_significant_and_lengths_must_match():
    a = np.arange(20.0)
    assert paired_difference(a, a)["p"] == 1.0
    with pytest.raises(ValueError):
        paired_difference(a, a[:10])


def test_proportion_ci_wilson_known_value():
    p = proportion_ci(8, 10)
    # Wilson interval for 8/10: (0.4902, 0.9433)
    assert p["rate"] == 0.8 and p["lo"] == pytest.approx(0.4902, abs=1e-4) and p["hi"] == pytest.approx(0.9433, abs=1e-4)
    assert proportion_ci(0, 0)["rate"] is None


def test_corpus_statistic_interval_is_bias_corrected_and_paired():
    values = np.arange(50, dtype=float)

    def distinct(idx):  # like distinct-n: a repeated context adds nothing new
        return len(set(idx.tolist())) / len(idx)

    ci = statistic_ci(distinct, 50, resamples=300)
    assert ci["mean"] == 1.0 and ci["lo"] <= 1.0 <= ci["hi"]  # uncorrected resamples would all be ~0.63
    same = paired_statistic(lambda idx: values[idx].mean(), lambda idx: values[idx].mean(), 50, resamples=200)
    assert same["diff"] == 0 and same["lo"] == 0 and same["hi"] == 0 and same["p"] == 1.0
    shifted = paired_statistic(lambda idx: values[idx].mean(), lambda idx: values[idx].mean() + 1, 50, resamples=200)
    assert shifted["diff"] == pytest.approx(1.0) and shifted["p"] == 0.0
