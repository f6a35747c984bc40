"""Core helpers: override parsing, preset construction, statistics."""

from __future__ import annotations

import numpy as np
import pytest

from opsrl.core.params import parse_overrides
from opsrl.eval.stats import bootstrap_ci, gap_pct, iqm, mean_ci95


def test_parse_overrides_reads_yaml_values():
    assert parse_overrides(["lead_time=3", "holding_cost=0.5", "lost_demand=true", "adjacency=[[1, 0], [0, 1]]",
                            "demand_distribution=poisson"]) == {
        "lead_time": 3, "holding_cost": 0.5, "lost_demand": True, "adjacency": ((1, 0), (0, 1)),
        "demand_distribution": "poisson"}
    assert parse_overrides(["learning_rate=3e-3", "hidden=[64, 1e2]", "name=nan_policy", "horizon=None",
                            "max_order=null"]) == {
        "learning_rate": 0.003, "hidden": (64, 100.0), "name": "nan_policy", "horizon": None, "max_order": None}
    with pytest.raises(ValueError, match="key=value"):
        parse_overrides(["lead_time"])


def test_mean_ci95_matches_student_t():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    mean, half = mean_ci95(x)
    assert mean == 2.5 and half == pytest.approx(3.182446 * x.std(ddof=1) / 2, rel=1e-6)
    assert mean_ci95(np.array([5.0])) == (5.0, 0.0)


def test_iqm_and_bootstrap():
    x = np.array([0.0, 1.0, 2.0, 3.0, 100.0, 4.0, 5.0, 6.0])
    assert iqm(x) == pytest.approx(np.mean([2.0, 3.0, 4.0, 5.0]))
    lo, hi = bootstrap_ci(np.arange(100.0), seed=0)
    assert lo < 49.5 < hi and hi - lo < 15
    assert gap_pct(101.0, 100.0) == pytest.approx(1.0)
