"""Two small statistics used by the reports: an exact two-sided binomial test and the Wilson interval."""

from __future__ import annotations


def binom_p(k: int, n: int, p: float = 0.5) -> float | None:
    """Two-sided exact binomial p-value of ``k`` successes in ``n`` trials (scipy's binomtest)."""
    if n == 0:
        return None
    from scipy.stats import binomtest

    return float(binomtest(k, n, p, alternative="two-sided").pvalue)


def wilson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float] | None:
    """Wilson score interval for a proportion (statsmodels' proportion_confint)."""
    if n == 0:
        return None
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(k, n, alpha=alpha, method="wilson")
    return float(low), float(high)
