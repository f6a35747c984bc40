"""Summary statistics for results: mean ± 95% CI over episodes, and across training seeds the
interquartile mean with percentile-bootstrap intervals (Agarwal et al., 2021)."""

from __future__ import annotations

import numpy as np
from scipy import stats as st


def mean_ci95(x: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of the Student-t 95% confidence interval (0 for a single value)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 2:
        return float(x.mean()), 0.0
    half = st.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return float(x.mean()), float(half)


def iqm(x: np.ndarray) -> float:
    """Interquartile mean: the mean of the middle 50% of values (trimmed 25% each side)."""
    return float(st.trim_mean(np.asarray(x, dtype=np.float64), 0.25))


def bootstrap_ci(x: np.ndarray, statistic=np.mean, n_boot: int = 2000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over resamples of ``x``."""
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    boots = np.array([statistic(x[i]) for i in idx])
    a = (1 - level) / 2
    return float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a))


def gap_pct(value: float, reference: float) -> float:
    """Relative excess of ``value`` over ``reference`` in percent (costs: positive = worse)."""
    return 100.0 * (value - reference) / abs(reference) if reference != 0 else float("nan")
