"""Golden values of the spec (inventory.md §5): the analytic base-stock optimum reproduced by simulation
for every (L, p) of the grid, the pooled transshipment bound table, Zipkin's table, Clark–Scarf levels
simulated through the env."""

from __future__ import annotations

import pytest

from opsrl.envs.inventory.references import exact_references
from opsrl.envs.inventory.solver import base_stock_optimum
from opsrl.eval import evaluate
from opsrl.registration import make_problem

ENV_ID = "opsrl/InventoryNetwork-v0"
LONG = {"horizon": 300, "warmup": 60}

# spec §5.5 (ρ = 0.5, L_w = 3, h = 1)
POOLED = {(3, 2, 4): 5.7537, (3, 2, 9): 7.2136, (3, 6, 4): 7.7172, (3, 6, 9): 9.6753,
          (5, 2, 4): 5.2964, (5, 2, 9): 6.6402, (5, 6, 4): 7.1695, (5, 6, 9): 8.9886,
          (10, 2, 4): 5.5359, (10, 2, 9): 6.9405, (10, 6, 4): 7.5462, (10, 6, 9): 9.4609}
ZIPKIN = {(1, 4): 4.04, (1, 9): 5.44, (1, 19): 6.68, (1, 39): 7.84, (2, 4): 4.40, (2, 9): 6.09,
          (2, 19): 7.66, (2, 39): 9.11, (3, 4): 4.60, (3, 9): 6.53, (3, 19): 8.36, (3, 39): 10.04,
          (4, 4): 4.73, (4, 9): 6.84, (4, 19): 8.89, (4, 39): 10.79}


@pytest.mark.parametrize("L", [1, 4, 7, 10, 15, 20])
@pytest.mark.parametrize("p", [4, 9, 19, 39])
def test_analytic_base_stock_is_reproduced_by_simulation(L, p):
    preset = f"one_store_backlogged_L{L}_p{p}"
    _, optimum = base_stock_optimum(5.0, 1.6, L, p, 1.0)
    res = evaluate("base_stock", ENV_ID, preset, episodes=8192, seed=1, overrides=LONG, batch_size=8192)
    assert res.reference.kind == "optimum" and res.reference.value == pytest.approx(optimum)
    assert abs(res.gap_pct) < 0.5, (res.mean_cost, optimum, res.ci95)


@pytest.mark.parametrize("n,L,p", list(POOLED))
def test_pooled_transshipment_bound_table(n, L, p):
    (ref,) = exact_references(make_problem(ENV_ID, f"transshipment_n{n}_L{L}_p{p}"))
    assert ref.kind == "bound"
    assert round(ref.value, 4) == pytest.approx(POOLED[n, L, p], abs=1e-4)


@pytest.mark.parametrize("L,p", list(ZIPKIN))
def test_zipkin_reference_per_preset(L, p):
    (ref,) = exact_references(make_problem(ENV_ID, f"one_store_lost_L{L}_p{p}"))
    assert ref.kind == "optimum" and ref.value == pytest.approx(ZIPKIN[L, p])


def test_independent_stores_share_the_zipkin_value():
    (ref,) = exact_references(make_problem(ENV_ID, "independent_stores_lost_n10"))
    assert ref.value == pytest.approx(6.53)


def test_serial_4_echelon_optimum_and_its_simulation():
    (ref,) = exact_references(make_problem(ENV_ID, "serial_4"))
    assert ref.kind == "optimum" and ref.value == pytest.approx(10.73, abs=0.006)
    levels = ref.extra["echelon_levels_store_to_top"]
    assert levels == pytest.approx([32.36, 49.0, 72.8, 83.2], abs=0.1)
    res = evaluate("echelon_stock", ENV_ID, "serial_4", episodes=4096, seed=2, overrides=LONG,
                   batch_size=4096, reference=ref)
    assert abs(res.gap_pct) < 1.0, (res.mean_cost, res.ci95)


def test_capped_base_stock_is_near_zipkin_and_beats_base_stock():
    kw = dict(episodes=2048, seed=3, overrides=LONG, batch_size=2048)
    capped = evaluate("capped_base_stock", ENV_ID, "one_store_lost_L3_p9", **kw)
    plain = evaluate("base_stock", ENV_ID, "one_store_lost_L3_p9", reference=None, **kw)
    assert capped.reference.value == pytest.approx(6.53)
    assert 0 < capped.gap_pct < 2.0  # no admissible policy beats the optimum beyond noise
    assert capped.mean_cost < plain.mean_cost


def test_jit_oracle_is_a_floor_for_admissible_heuristics():
    kw = dict(episodes=256, seed=0, reference=None)
    jit = evaluate("jit_oracle", ENV_ID, "one_warehouse_lost_n3", **kw)
    heur = evaluate("base_stock", ENV_ID, "one_warehouse_lost_n3", **kw)
    assert not jit.admissible and jit.mean_cost < heur.mean_cost
