"""Neural inventory policies: feasibility of the order heads, the GNN's message passing and weight
sharing, flat/graph observation equivalence, checkpoint round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from opsrl.envs.inventory.env import InventoryNetwork
from opsrl.policies.inventory import (
    SupplyChainConv,
    TorchInventoryPolicy,
    build_module,
    default_architecture,
    load_policy,
    save_policy,
)

NETWORK_PRESETS = ["one_store_lost_sales", "serial_4", "one_warehouse_lost_n3", "transshipment_n3_L2_p4",
                   "many_warehouses_w2_s10", "independent_stores_lost_n3"]


def random_inventories(problem: InventoryNetwork, batch: int, seed: int) -> torch.Tensor:
    """Start states of the env plus random upstream stock (some empty, some large, some backlog)."""
    rng = np.random.default_rng(seed)
    inv = problem.init(batch, rng).inv
    inv[:, :, 0] += rng.choice([0.0, 0.5, 20.0, 200.0], size=inv.shape[:2])
    inv[: batch // 4, :, 0] -= 30.0  # negative on-hand (backlog) must count as no stock
    return torch.as_tensor(inv, dtype=torch.float32)


def shipped_per_node(problem: InventoryNetwork, q: np.ndarray) -> np.ndarray:
    net = problem.network
    sent = np.zeros((q.shape[0], net.n_nodes))
    for e, s in enumerate(net.edge_src):
        if s >= 0:
            sent[:, s] += q[:, e]
    return sent


@pytest.mark.parametrize("kind", ["mlp", "gnn"])
@pytest.mark.parametrize("preset", NETWORK_PRESETS)
def test_orders_are_feasible(preset, kind):
    problem = InventoryNetwork.from_preset(preset)
    torch.manual_seed(0)
    module = build_module(problem, default_architecture(problem.network, kind))
    for p in module.parameters():  # large random weights push the heads to their extremes
        p.data.mul_(5.0)
    inv = random_inventories(problem, 64, seed=1)
    q = module(inv).detach().numpy().astype(np.float64)
    assert q.shape == (64, problem.network.n_edges)
    assert np.isfinite(q).all() and (q >= 0).all()
    on_hand = np.maximum(inv[:, :, 0].numpy(), 0.0)
    sent = shipped_per_node(problem, q)
    assert (sent <= on_hand * (1 + 1e-5) + 1e-5).all(), "shipments exceed on-hand"
    center = ~problem.network.holds_stock
    if center.any():  # a transshipment center allocates all its stock
        np.testing.assert_allclose(sent[:, center], on_hand[:, center], rtol=1e-5, atol=1e-4)


def test_gnn_message_passing_matches_manual_aggregation():
    torch.manual_seed(0)
    conv = SupplyChainConv(dim=4, hidden=8)
    edge_index = torch.tensor([[0, 0, 1, 2, 2], [1, 2, 2, 3, 2]])  # includes a self-loop on node 2
    n = 4
    h, e = torch.randn(3, n, 4), torch.randn(3, 5, 4)
    indeg = torch.bincount(edge_index[1], minlength=n).clamp(min=1).float()
    outdeg = torch.bincount(edge_index[0], minlength=n).clamp(min=1).float()
    h2, e2 = conv(h, e, edge_index, indeg.rsqrt()[:, None], outdeg.rsqrt()[:, None])
    incoming, outgoing = torch.zeros(3, n, 4), torch.zeros(3, n, 4)
    for k, (s, d) in enumerate(edge_index.T.tolist()):
        incoming[:, d] += e[:, k] / indeg[d].sqrt()
        outgoing[:, s] += e[:, k] / outdeg[s].sqrt()
    h_ref = h + conv.node_mlp(torch.cat([h, incoming, outgoing], -1))
    e_ref = e + conv.edge_mlp(torch.cat([e, h_ref[:, edge_index[0]], h_ref[:, edge_index[1]]], -1))
    torch.testing.assert_close(h2, h_ref)
    torch.testing.assert_close(e2, e_ref)


def test_gnn_weights_serve_any_number_of_stores():
    small = InventoryNetwork.from_preset("one_warehouse_lost_n3")
    large = InventoryNetwork.from_preset("one_warehouse_lost_n10")
    torch.manual_seed(0)
    g3 = build_module(small, default_architecture(small.network, "gnn"))
    g10 = build_module(large, default_architecture(large.network, "gnn"))
    g10.load_state_dict(g3.state_dict())  # same parameters, no size-dependent entries
    assert set(g3.state_dict()) == set(g10.state_dict())
    q = g10(random_inventories(large, 8, seed=2))
    assert q.shape == (8, large.network.n_edges)


@pytest.mark.parametrize("preset", ["one_warehouse_lost_n3", "one_warehouse_lost_n10"])
def test_untrained_gnn_requests_the_demand_served_below_each_edge(preset):
    """With the output layer's weights at zero the head is its initial bias: every request is
    softplus(5)/5 ≈ 1.0013 × the mean demand served through the edge's destination (a warehouse of n
    stores asks the supplier for ~Σμ, each store asks the warehouse for its own μ)."""
    problem = InventoryNetwork.from_preset(preset)
    torch.manual_seed(0)
    module = build_module(problem, default_architecture(problem.network, "gnn"))
    with torch.no_grad():
        module.output[-1].weight.zero_()
    inv = torch.zeros(2, problem.network.n_nodes, problem.network.K)
    inv[:, :, 0] = 1e6  # ample stock: no rationing
    q = module(inv).detach().numpy()
    net = problem.network
    mu = dict(zip(net.store_index.tolist(), net.demand_mean.tolist(), strict=True))
    served = np.array([mu.get(int(d), sum(net.demand_mean)) for d in net.edge_dst])
    np.testing.assert_allclose(q, np.broadcast_to(served * np.log1p(np.exp(5.0)) / 5.0, q.shape), rtol=1e-5)


def test_gnn_is_store_permutation_equivariant():
    """Weight sharing: two identical stores with identical inventories get identical orders."""
    problem = InventoryNetwork.from_preset("one_warehouse_lost_n3", demand_mean_range=None, demand_cv_range=None,
                                           holding_cost_range=None, underage_cost_range=None,
                                           lead_time_range=None, lead_time=2)
    torch.manual_seed(0)
    module = build_module(problem, default_architecture(problem.network, "gnn"))
    inv = random_inventories(problem, 4, seed=3)
    stores = problem.network.store_index
    inv[:, stores[1]] = inv[:, stores[0]]
    q = module(inv).detach()
    edge_to = {int(d): e for e, d in enumerate(problem.network.edge_dst)}
    torch.testing.assert_close(q[:, edge_to[int(stores[0])]], q[:, edge_to[int(stores[1])]])


@pytest.mark.parametrize("kind", ["mlp", "gnn"])
def test_checkpoint_round_trip_flat_and_graph(tmp_path, kind):
    problem = InventoryNetwork.from_preset("one_warehouse_lost_n3")
    torch.manual_seed(0)
    arch = default_architecture(problem.network, kind)
    module = build_module(problem, arch)
    save_policy(str(tmp_path), module, arch, round_orders=False, extra={"name": f"test-{kind}"})
    flat = load_policy(str(tmp_path), problem)
    graph_problem = InventoryNetwork(problem.params, obs_mode="graph")
    graph = load_policy(str(tmp_path), graph_problem)
    state = problem.init(16, np.random.default_rng(4))
    a_flat = flat.act(problem.observe(state), {})
    a_graph = graph.act(graph_problem.observe(state), {})
    expected = module(torch.as_tensor(state.inv, dtype=torch.float32)).detach().numpy()
    np.testing.assert_allclose(a_flat, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(a_graph, expected, rtol=1e-5, atol=1e-5)
    assert isinstance(flat, TorchInventoryPolicy) and flat.name == f"test-{kind}"


def test_mlp_checkpoint_on_another_network_is_a_clear_error(tmp_path):
    problem = InventoryNetwork.from_preset("one_warehouse_lost_n3")
    arch = default_architecture(problem.network, "mlp")
    save_policy(str(tmp_path), build_module(problem, arch), arch, round_orders=False, extra={})
    with pytest.raises(ValueError, match="trained on"):
        load_policy(str(tmp_path), InventoryNetwork.from_preset("one_warehouse_lost_n5"))


def test_round_orders():
    problem = InventoryNetwork.from_preset("one_store_lost_sales")
    module = build_module(problem, default_architecture(problem.network, "mlp"))
    policy = TorchInventoryPolicy(problem, module, round_orders=True)
    a = policy.act(problem.observe(problem.init(32, np.random.default_rng(5))), {})
    np.testing.assert_array_equal(a, np.round(a))
