"""evaluate(): common random numbers across policies, chunking, references."""

from __future__ import annotations

import numpy as np
import pytest

from opsrl.envs.inventory.heuristics import BaseStockPolicy
from opsrl.eval import evaluate, scenario_seeds
from opsrl.registration import make_problem

ENV_ID = "opsrl/InventoryNetwork-v0"


def test_same_arguments_same_scenarios():
    a = evaluate("base_stock", ENV_ID, "one_store_backlogged", episodes=50, seed=4, reference=None)
    b = evaluate("base_stock", ENV_ID, "one_store_backlogged", episodes=50, seed=4, reference=None)
    np.testing.assert_array_equal(a.costs, b.costs)
    c = evaluate("base_stock", ENV_ID, "one_store_backlogged", episodes=50, seed=5, reference=None)
    assert not np.array_equal(a.costs, c.costs)


def test_common_random_numbers_across_policies():
    """Two base-stock levels compared on the same scenarios: the per-episode difference has far less
    spread than when the second policy faces other scenarios (the demand paths are shared)."""
    problem = make_problem(ENV_ID, "one_store_backlogged")
    lo = BaseStockPolicy(problem, levels=np.array([29.0]))
    hi = BaseStockPolicy(problem, levels=np.array([30.0]))
    a = evaluate(lo, ENV_ID, "one_store_backlogged", episodes=200, seed=0, reference=None)
    b = evaluate(hi, ENV_ID, "one_store_backlogged", episodes=200, seed=0, reference=None)
    other = evaluate(hi, ENV_ID, "one_store_backlogged", episodes=200, seed=1, reference=None)
    assert np.std(a.costs - b.costs) < 0.5 * np.std(a.costs - other.costs)


def test_chunks_cover_all_episodes():
    chunks = list(scenario_seeds(0, 2500, 1024))
    assert [n for n, _ in chunks] == [1024, 1024, 452]
    assert len({s for _, s in chunks}) == 3
    res = evaluate("zero", ENV_ID, "one_store_lost_sales", episodes=70, batch_size=32, reference=None)
    assert res.costs.shape == (70,)
    with pytest.raises(ValueError, match="episodes"):
        evaluate("zero", ENV_ID, episodes=0)


def test_gap_is_relative_to_the_reference():
    res = evaluate("base_stock", ENV_ID, "one_store_backlogged", episodes=20)
    assert res.gap_pct == pytest.approx(100 * (res.mean_cost - res.reference.value) / res.reference.value)
