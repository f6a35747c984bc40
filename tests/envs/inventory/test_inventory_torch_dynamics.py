"""The torch twin of the inventory kernel matches the numba kernel to 1e-9 (DESIGN contract 2, spec §9),
and its costs are differentiable in the orders (spec §6.1)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from opsrl.envs.inventory.env import InventoryNetwork
from opsrl.envs.inventory.torch_dynamics import TorchNetwork, proportional_rationing, rollout, step

BATCH, HORIZON, TOL = 64, 30, 1e-9
SHORT = {"horizon": HORIZON, "warmup": 0}

CASES = {
    "one_store_backlogged": {},
    "one_store_backlogged_K1": {"preset": "one_store_backlogged", "lead_time": 1, "inventory_periods": 1},
    "one_store_lost_sales": {},
    "one_store_lost_sales_profit": {"preset": "one_store_lost_sales", "maximize_profit": True},
    "serial_4": {},
    "serial_4_transshipment": {"preset": "serial_4", "warehouse_holds_stock": False},
    "one_warehouse_lost_n10": {},
    "transshipment": {},
    "many_warehouses_w2_s10": {},
    "independent_stores_lost_n3": {},
}


def make_problem(case: str) -> InventoryNetwork:
    overrides = dict(CASES[case])
    preset = overrides.pop("preset", case)
    return InventoryNetwork.from_preset(preset, **SHORT, **overrides)


def random_orders(problem: InventoryNetwork, rng: np.random.Generator) -> np.ndarray:
    """[T, B, E] orders around the mean demand served through each edge, with some negative orders,
    some above ``max_order``, and some periods where every order is negative (no requests at all)."""
    net = problem.network
    scale = net.max_order / 20.0  # = mean demand served through the edge (or 1), see build_network
    shape = (HORIZON, BATCH, net.n_edges)
    orders = rng.uniform(0.0, 3.0, shape) * scale
    u = rng.uniform(size=shape)
    orders = np.where(u < 0.1, -rng.uniform(0.0, 5.0, shape), orders)
    orders = np.where(u > 0.95, net.max_order * rng.uniform(1.0, 2.0, shape), orders)
    idle = rng.uniform(size=(HORIZON, BATCH, 1)) < 0.1
    return np.where(idle, -1.0, orders)


@pytest.mark.parametrize("case", sorted(CASES))
def test_twin_matches_kernel(case):
    problem = make_problem(case)
    rng = np.random.default_rng(sorted(CASES).index(case))
    state = problem.init(BATCH, rng)
    orders = random_orders(problem, rng)
    net = TorchNetwork(problem.network)
    inv0 = net.as_tensor(state.inv.copy())
    inv = inv0
    demand = net.as_tensor(state.demand)
    active = np.ones(BATCH, dtype=np.bool_)
    kernel_costs = np.empty((HORIZON, BATCH))
    for t in range(HORIZON):
        tr = problem.step(state, orders[t], active, rng)
        inv, parts = step(inv, demand[:, t], net.as_tensor(orders[t]), net)
        kernel_costs[t] = -tr.reward
        np.testing.assert_allclose(parts["cost"].numpy(), -tr.reward, rtol=0, atol=TOL, err_msg=f"cost t={t}")
        for name in ("holding", "shortage", "procurement"):
            np.testing.assert_allclose(parts[name].numpy(), tr.info["costs"][name], rtol=0, atol=TOL,
                                       err_msg=f"{name} t={t}")
        np.testing.assert_allclose(parts["shipped"].numpy(), tr.info["orders"], rtol=0, atol=TOL)
        np.testing.assert_allclose(parts["sales"].numpy(), tr.info["sales"], rtol=0, atol=TOL)
        np.testing.assert_allclose(inv.numpy(), state.inv, rtol=0, atol=TOL, err_msg=f"state t={t}")

    # rollout() is the same loop: replay the recorded orders from the start state.
    costs = rollout(net, inv0, demand, lambda _inv, t: net.as_tensor(orders[t]))
    assert costs.shape == (BATCH, HORIZON)
    np.testing.assert_allclose(costs.numpy(), kernel_costs.T, rtol=0, atol=TOL)


def test_inputs_are_not_modified():
    problem = make_problem("one_warehouse_lost_n10")
    state = problem.init(8, np.random.default_rng(0))
    net = TorchNetwork(problem.network)
    inv = net.as_tensor(state.inv)
    orders = torch.full((8, problem.network.n_edges), 4.0, dtype=torch.float64)
    before = inv.clone(), orders.clone()
    step(inv, net.as_tensor(state.demand[:, 0]), orders, net)
    assert torch.equal(inv, before[0]) and torch.equal(orders, before[1])


@pytest.mark.parametrize("case", ["one_store_backlogged", "one_store_lost_sales", "one_warehouse_lost_n10",
                                  "transshipment"])
def test_gradient_reaches_base_stock_level(case):
    problem = make_problem(case)
    state = problem.init(BATCH, np.random.default_rng(1))
    net = TorchNetwork(problem.network)
    # One base-stock level per edge, on the inventory position of the edge's destination.
    level = torch.tensor(problem.network.max_order / 20.0 * 6.0, requires_grad=True)

    def policy(inv: torch.Tensor, t: int) -> torch.Tensor:
        position = inv.sum(-1)[:, net.edge_dst]
        return (level - position).clamp(min=0.0)

    costs = rollout(net, net.as_tensor(state.inv), net.as_tensor(state.demand), policy)
    (grad,) = torch.autograd.grad(costs.sum() / (BATCH * HORIZON), level)
    assert torch.isfinite(grad).all()
    assert grad.abs().sum() > 0.0


def test_gradient_in_float32():
    problem = make_problem("serial_4")
    state = problem.init(16, np.random.default_rng(2))
    net = TorchNetwork(problem.network, dtype=torch.float32)
    level = torch.tensor(30.0, requires_grad=True)
    costs = rollout(net, net.as_tensor(state.inv), net.as_tensor(state.demand),
                    lambda inv, t: (level - inv.sum(-1)[:, net.edge_dst]).clamp(min=0.0))
    assert costs.dtype == torch.float32
    (grad,) = torch.autograd.grad(costs.mean(), level)
    assert torch.isfinite(grad) and grad != 0.0


def test_proportional_rationing():
    requests = torch.tensor([[2.0, 6.0], [1.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    on_hand = torch.tensor([4.0, 10.0, 3.0], dtype=torch.float64)
    expected = torch.tensor([[1.0, 3.0], [1.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(proportional_rationing(requests, on_hand), expected)
    # Transshipment: all stock leaves, proportionally, or evenly when nothing is requested.
    shipped = proportional_rationing(requests, on_hand, ship_all=True)
    torch.testing.assert_close(shipped, torch.tensor([[1.0, 3.0], [5.0, 5.0], [1.5, 1.5]], dtype=torch.float64))
    # Several sources and an unlimited supplier (-1); negative on-hand counts as 0.
    src = torch.tensor([0, 0, 1, -1])
    req = torch.tensor([[3.0, 1.0, 5.0, 7.0]], dtype=torch.float64)
    out = proportional_rationing(req, torch.tensor([[2.0, -1.0]], dtype=torch.float64), src=src)
    torch.testing.assert_close(out, torch.tensor([[1.5, 0.5, 0.0, 7.0]], dtype=torch.float64))


def test_proportional_rationing_gradcheck():
    requests = torch.tensor([[2.0, 6.0, 1.0], [1.0, 0.5, 2.0]], dtype=torch.float64, requires_grad=True)
    on_hand = torch.tensor([4.0, 9.0], dtype=torch.float64, requires_grad=True)  # short, then ample
    assert torch.autograd.gradcheck(lambda r, h: proportional_rationing(r, h), (requests, on_hand))
    assert torch.autograd.gradcheck(lambda r, h: proportional_rationing(r, h, ship_all=True), (requests, on_hand))


def test_independent_store_networks_take_the_short_path():
    """The kernel comparison above covers both paths of ``step``: the store-only cases take the short one."""
    short = {case for case in CASES if TorchNetwork(make_problem(case).network)._stores_only}
    assert short == {"one_store_backlogged", "one_store_backlogged_K1", "one_store_lost_sales",
                     "one_store_lost_sales_profit", "independent_stores_lost_n3"}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_rationing_gradient_is_finite_for_vanishing_requests(dtype):
    """Requests summing to ~1e-25 (a softplus head far in its tail) used to give 0·x/0 = NaN gradients in
    float32 (total² underflows), which poisoned a GNN's weights after a few dozen HDPO steps."""
    for on_hand in (0.0, 5.0):
        requests = torch.tensor([[1e-25, 3e-26, 2.0]], dtype=dtype, requires_grad=True)
        stock = torch.tensor([[on_hand, 0.0]], dtype=dtype, requires_grad=True)
        for ship_all in (False, True):
            out = proportional_rationing(requests, stock, src=torch.tensor([0, 0, -1]), ship_all=ship_all)
            out.sum().backward()
            assert torch.isfinite(out).all() and torch.isfinite(requests.grad).all()
            assert torch.isfinite(stock.grad).all()
            assert out[0, 2] == 2.0  # the supplier's request passes unchanged
            requests.grad = stock.grad = None
