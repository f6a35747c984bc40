"""Invariants under random play (hypothesis): conservation of stock, feasibility of shipments, lost
sales never negative, costs non-negative — over well above 10k random steps per run of the suite."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from opsrl.core.env import BatchedVectorEnv
from opsrl.envs.inventory.network import STORE

ENV_ID = "opsrl/InventoryNetwork-v0"
PROBLEM = "opsrl.envs.inventory.env:InventoryNetwork"
PRESETS = ["one_store_backlogged_L4_p9", "one_store_lost_L2_p19", "serial_5", "one_warehouse_lost_n5",
           "transshipment_n3_L6_p4", "many_warehouses_w2_s10", "independent_stores_lost_n3", "serial_3"]
BATCH, STEPS = 32, 40  # 1,280 env-steps per example


@settings(max_examples=20, deadline=None)
@given(preset=st.sampled_from(PRESETS), seed=st.integers(0, 2**31 - 1),
       scale=st.floats(0.0, 30.0), negative_share=st.floats(0.0, 0.5))
def test_stock_is_conserved_and_shipments_are_feasible(preset, seed, scale, negative_share):
    env = BatchedVectorEnv(PROBLEM, num_envs=BATCH, preset=preset, horizon=STEPS, warmup=0)
    net = env.problem.network
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    from_supplier = net.edge_src < 0
    for _ in range(STEPS):
        before = env.state.inv.copy()
        actions = rng.uniform(0, scale, (BATCH, net.n_edges))
        actions[rng.uniform(size=actions.shape) < negative_share] *= -1  # negative orders count as 0
        _, reward, _, _, info = env.step(actions)
        after = env.state.inv
        # conservation: total stock (all slots, all nodes) changes by supplier orders minus what left
        leaving = info["demand"].sum(1) if not net.lost_demand else info["sales"].sum(1)
        inflow = info["orders"][:, from_supplier].sum(1)
        np.testing.assert_allclose(after.sum((1, 2)), before.sum((1, 2)) + inflow - leaving, atol=1e-8)
        # shipments out of a node never exceed its on-hand; transshipment centers ship all of it
        for n in range(net.n_nodes):
            out = info["orders"][:, net.edge_src == n].sum(1)
            if out.size and (net.edge_src == n).any():
                on_hand = np.maximum(before[:, n, 0], 0)
                assert (out <= on_hand + 1e-9).all()
                if not net.holds_stock[n]:
                    np.testing.assert_allclose(out, on_hand, atol=1e-9)
        # orders are clipped to max_order; a transshipment center's shipments are scaled up to its whole
        # on-hand (it holds no stock), so only its requests, not its shipments, obey the clip
        capped = (net.edge_src < 0) | net.holds_stock[np.maximum(net.edge_src, 0)]
        assert (info["orders"] >= 0).all() and (info["orders"][:, capped] <= net.max_order[capped] + 1e-9).all()
        upstream = net.node_kind != STORE
        assert (after[:, upstream, :] >= -1e-9).all()
        if net.lost_demand:
            assert (after >= -1e-9).all()
        assert (info["sales"] <= info["demand"] + 1e-12).all()
        assert (reward <= 1e-12).all()
        for part in info["costs"].values():
            assert (part >= 0).all()
