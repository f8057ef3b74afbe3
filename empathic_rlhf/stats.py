"""The statistics behind every number the toolkit reports: intervals, paired comparisons, proportions.

- :func:`mean_ci`: a mean with its 95% bootstrap interval (percentile method, resampling contexts).
- :func:`paired_difference`: model B vs model A on the SAME contexts -- mean of the per-context differences, its
  95% bootstrap interval, a two-sided p-value (paired t-test; with n >= ~30 contexts the CLT makes it accurate,
  and it is exact for normal differences), and the minimal detectable effect at 80% power, i.e. the smallest
  true difference this many contexts would have found reliably ((z_0.975 + z_0.8) * SE ~= 2.8 SE).
- :func:`proportion_ci`, :func:`binomial_p`: a proportion with its Wilson interval and an exact binomial test
  (accuracies, win rates).

Pairing matters: two models' scores on the same contexts are strongly correlated (a hard context is hard for
both), so the paired difference has a far smaller standard error than the difference of two independent means.
"""

from __future__ import annotations

import math

import numpy as np

Z_975 = 1.959963984540054
Z_80 = 0.8416212335729143


def _clean(values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError("expected a 1-D sequence of numbers")
    return array


def mean_se(values) -> tuple[float, float]:
    """Mean and standard error of the mean (NaN standard error for fewer than two values)."""
    array = _clean(values)
    if len(array) < 2:
        return float(array.mean()), float("nan")
    return float(array.mean()), float(array.std(ddof=1) / math.sqrt(len(array)))


def bootstrap_means(values, *, resamples: int = 2000, seed: int = 0) -> np.ndarray:
    """Means of ``resamples`` bootstrap resamples of ``values`` (one index draw per resample)."""
    array = _clean(values)
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(array), size=(resamples, len(array)))
    return array[index].mean(axis=1)


def mean_ci(values, *, resamples: int = 2000, seed: int = 0) -> dict:
    """``{mean, lo, hi, se, n}``: the mean with a 95% percentile-bootstrap interval over the values."""
    array = _clean(values)
    n = len(array)
    if n == 0:
        return {"mean": None, "lo": None, "hi": None, "se": None, "n": 0}
    if n == 1:
        return {"mean": float(array[0]), "lo": None, "hi": None, "se": None, "n": 1}
    means = bootstrap_means(array, resamples=resamples, seed=seed)
    lo, hi = np.quantile(means, [0.025, 0.975])
    mean, se = mean_se(array)
    return {"mean": mean, "lo": float(lo), "hi": float(hi), "se": se, "n": n}


def paired_difference(baseline, other, *, resamples: int = 2000, seed: int = 0) -> dict:
    """``other - baseline`` per context: ``{diff, lo, hi, se, p, mde, n}`` (see the module doc)."""
    a, b = _clean(baseline), _clean(other)
    if len(a) != len(b):
        raise ValueError(f"paired comparison needs the same contexts: {len(a)} vs {len(b)} values")
    diffs = b - a
    n = len(diffs)
    if n < 2:
        return {"diff": float(diffs.mean()) if n else None, "lo": None, "hi": None, "se": None, "p": None,
                "mde": None, "n": n}
    summary = mean_ci(diffs, resamples=resamples, seed=seed)
    se = summary["se"]
    if se == 0:
        p = 1.0 if diffs.mean() == 0 else 0.0
    else:
        from scipy.stats import t as student_t

        p = float(2 * student_t.sf(abs(diffs.mean() / se), df=n - 1))
    return {"diff": summary["mean"], "lo": summary["lo"], "hi": summary["hi"], "se": se, "p": p,
            "mde": (Z_975 + Z_80) * se, "n": n}


def proportion_ci(successes: int, n: int) -> dict:
    """``{rate, lo, hi, n}``: a proportion with its 95% Wilson score interval (statsmodels)."""
    if n == 0:
        return {"rate": None, "lo": None, "hi": None, "n": 0}
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(successes, n, alpha=0.05, method="wilson")
    return {"rate": successes / n, "lo": float(lo), "hi": float(hi), "n": n}


def binomial_p(successes: int, n: int, p: float = 0.5) -> float | None:
    """Two-sided exact binomial p-value of ``successes`` in ``n`` trials (scipy), e.g. a win rate against 1/2."""
    if n == 0:
        return None
    from scipy.stats import binomtest

    return float(binomtest(successes, n, p, alternative="two-sided").pvalue)


def bootstrap_indices(n: int, *, resamples: int = 1000, seed: int = 0) -> np.ndarray:
    """``[resamples, n]`` context indices drawn with replacement; the same draws serve every model, so corpus
    metrics (BLEU, distinct-n, perplexity) of two models are compared on the same resampled contexts."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def statistic_ci(statistic, n: int, *, resamples: int = 1000, seed: int = 0,
                 bounds: tuple[float, float] = (-math.inf, math.inf)) -> dict:
    """``{mean, lo, hi, n}`` of a corpus statistic ``statistic(indices) -> float`` over ``n`` contexts: the value on
    all contexts with a 95% bootstrap interval over resampled contexts.

    The interval is bias-corrected (shifted by point value - mean of the resamples): a resample repeats some
    contexts, which lowers statistics like distinct-n that count repeated text once; the shift removes that.
    ``bounds``: the statistic's range (e.g. 0-1 for a ratio), which the shifted interval must not leave.
    """
    if n == 0:
        return {"mean": None, "lo": None, "hi": None, "n": 0}
    point = float(statistic(np.arange(n)))
    values = np.array([statistic(index) for index in bootstrap_indices(n, resamples=resamples, seed=seed)])
    lo, hi = np.clip(np.quantile(values, [0.025, 0.975]) + (point - values.mean()), *bounds)
    return {"mean": point, "lo": float(lo), "hi": float(hi), "n": n}


def paired_statistic(baseline, other, n: int, *, resamples: int = 1000, seed: int = 0) -> dict:
    """``other - baseline`` of a corpus statistic on the same contexts: ``{diff, lo, hi, p, n}``, the
    bias-corrected interval (as in :func:`statistic_ci`) and a two-sided bootstrap p-value (twice the share of
    centred resampled differences on the far side of zero)."""
    if n < 2:
        return {"diff": None, "lo": None, "hi": None, "p": None, "n": n}
    everything = np.arange(n)
    point = float(other(everything) - baseline(everything))
    diffs = np.array([other(index) - baseline(index)
                      for index in bootstrap_indices(n, resamples=resamples, seed=seed)])
    diffs += point - diffs.mean()
    lo, hi = np.quantile(diffs, [0.025, 0.975])
    tail = min((diffs <= 0).mean(), (diffs >= 0).mean())
    return {"diff": point, "lo": float(lo), "hi": float(hi), "p": float(min(1.0, 2 * tail)), "n": n}
