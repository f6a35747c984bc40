"""Differentiable torch twin of the inventory kernel :func:`opsrl.envs.inventory.dynamics.step_batch`.

HDPO (spec ``inventory.md`` §6.1) learns by back-propagating the total cost of whole unrolled
trajectories, over a fixed set of demand scenarios, into the policy's parameters. This module replays
the kernel's period, event for event (§2.3), with out-of-place torch operations so that autograd sees
every step:

1. orders are clipped to ``[0, max_order]``;
2. requests on edges out of a node are rationed proportionally to its on-hand
   (:func:`proportional_rationing`); a transshipment center ships all its on-hand;
3. shipments leave the sources' on-hand; supplier edges pay ``edge_cost``;
4. demand is realised; stores pay p·short + h·over (profit mode: earn p·sales, pay holding and
   procurement), upstream nodes pay h on their post-shipment on-hand;
5. lost sales truncate negative store stock at 0;
6. every inventory vector shifts one slot and an order of lead ℓ is added to slot ℓ−1.

Non-smooth operations (clip, min, max) are plain ``clamp``/``minimum``/``maximum``: autograd uses their
sub-gradients, as the reference does. A test checks this twin against the numba kernel to 1e-9 on random
trajectories of every preset family (``tests/envs/inventory/test_torch_dynamics.py``).

Example::

    problem = InventoryNetwork.from_preset("one_store_backlogged")
    net = TorchNetwork(problem.network)
    state = problem.init(1024, np.random.default_rng(0))
    level = torch.tensor(30.0, dtype=torch.float64, requires_grad=True)
    costs = rollout(net, net.as_tensor(state.inv), net.as_tensor(state.demand),
                    lambda inv, t: (level - inv.sum(-1)).clamp(min=0.0))
    costs.mean().backward()
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from opsrl.envs.inventory.dynamics import REQUEST_FLOOR
from opsrl.envs.inventory.network import Network

__all__ = ["TorchNetwork", "proportional_rationing", "rollout", "step"]


class TorchNetwork:
    """The arrays of a :class:`~opsrl.envs.inventory.network.Network` as torch tensors, plus the index
    tensors the twin's scatters need (built once, not per step).

    Args:
        network: the resolved graph (``problem.network`` of an ``InventoryNetwork``).
        dtype: floating dtype of the cost and capacity tensors (float64 by default, which the 1e-9
            equivalence with the kernel needs; float32 is fine for training on a GPU).
        device: where every tensor lives.

    Attributes:
        n_nodes, n_edges, n_stores, K: sizes (``K`` = length of each node's inventory vector).
        lost_demand, maximize_profit: the network's sales regime.
        edge_src, edge_dst, edge_lead: int64 ``[E]`` (``edge_src`` is -1 for the external supplier).
        edge_cost, max_order: ``[E]``; holding, underage: ``[N]``; holds_stock: bool ``[N]``.
        store_index: int64 ``[S]``, the node of each demand column.
    """

    def __init__(self, network: Network, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None) -> None:
        self.network = network
        self.dtype = dtype
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.n_nodes, self.n_edges, self.n_stores = network.n_nodes, network.n_edges, network.n_stores
        self.K = int(network.K)
        self.lost_demand = bool(network.lost_demand)
        self.maximize_profit = bool(network.maximize_profit)

        def longs(a: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.asarray(a, dtype=np.int64), device=self.device)

        self.edge_src = longs(network.edge_src)
        self.edge_dst = longs(network.edge_dst)
        self.edge_lead = longs(network.edge_lead)
        self.store_index = longs(network.store_index)
        self.edge_cost = self.as_tensor(network.edge_cost)
        self.max_order = self.as_tensor(network.max_order)
        self.holding = self.as_tensor(network.holding)
        self.underage = self.as_tensor(network.underage)
        self.holds_stock = torch.as_tensor(np.asarray(network.holds_stock, dtype=np.bool_), device=self.device)

        # Supplier edges point at an extra column N of every per-node scatter, so sums need no masking.
        self._src_idx = torch.where(self.edge_src >= 0, self.edge_src, torch.full_like(self.edge_src, self.n_nodes))
        self._n_out = torch.bincount(self._src_idx, minlength=self.n_nodes + 1).to(dtype)
        self._ship_all = torch.cat([~self.holds_stock, torch.zeros(1, dtype=torch.bool, device=self.device)])
        self._from_supplier = (self.edge_src < 0).to(dtype)
        # Flat index of slot ℓ−1 of each edge's destination in a [N·K] inventory row.
        self._receive_idx = self.edge_dst * self.K + self.edge_lead - 1
        is_store = torch.zeros(self.n_nodes, dtype=torch.bool, device=self.device)
        is_store[self.store_index] = True
        self._upstream_holding = torch.where(is_store, torch.zeros_like(self.holding), self.holding)
        self._store_holding = self.holding[self.store_index]
        self._store_underage = self.underage[self.store_index]
        # Networks of independent stores (every node a store, in order, every edge from the supplier) skip
        # the rationing and the scatters of the general step: ~40% fewer autograd nodes per period, which is
        # most of HDPO's time on the one-store presets.
        self._stores_only = bool(self.n_nodes == self.n_stores and (network.edge_src < 0).all()
                                 and np.array_equal(network.store_index, np.arange(self.n_nodes)))
        self._charges_orders = bool((network.edge_cost != 0).any())

    def as_tensor(self, array: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``array`` as a tensor of this network's dtype and device (e.g. a state's ``inv`` or ``demand``)."""
        return torch.as_tensor(array, dtype=self.dtype, device=self.device)

    def __repr__(self) -> str:
        return (f"TorchNetwork(n_nodes={self.n_nodes}, n_edges={self.n_edges}, n_stores={self.n_stores}, "
                f"K={self.K}, dtype={self.dtype}, device={self.device})")


def _ration(requests: torch.Tensor, on_hand: torch.Tensor, src_idx: torch.Tensor, n_out: torch.Tensor,
            ship_all: torch.Tensor) -> torch.Tensor:
    """Rationing over ``requests [..., M]`` from sources ``src_idx [M]`` into ``on_hand [..., N+1]``
    (column N = unlimited supplier; ``n_out`` and ``ship_all`` are ``[N+1]``)."""
    on_hand = on_hand.clamp(min=0.0)
    total = torch.zeros_like(on_hand).index_add(-1, src_idx, requests)
    # Requests totalling at most REQUEST_FLOOR count as none (as in the kernel): the division's backward divides
    # by total², which underflows to 0 in float32 below ~1e-19 (a softplus head can request that little) and
    # turned 0·x/0 into NaN gradients. The unused branch of a torch.where still back-propagates (times 0), so
    # the denominator is made safe, not just the selected result.
    positive = total > REQUEST_FLOOR
    safe_total = torch.where(positive, total, torch.ones_like(total))
    share = on_hand / safe_total
    # Stock-holding nodes scale requests down only when short; a transshipment center always scales to
    # exactly its on-hand. The supplier column (on-hand 0 by convention) is unlimited: its ratio is 1.
    ratio = torch.where(ship_all, torch.where(positive, share, torch.zeros_like(share)),
                        torch.where(total > on_hand, share, torch.ones_like(share)))
    ratio = torch.cat([ratio[..., :-1], torch.ones_like(ratio[..., -1:])], dim=-1)
    shipped = requests * ratio[..., src_idx]
    # A transshipment center with no requests still empties: evenly over its outgoing edges.
    idle = (ship_all & ~positive)[..., src_idx]
    even = (on_hand / n_out.clamp(min=1.0))[..., src_idx]
    return torch.where(idle, even, shipped)


def proportional_rationing(requests: torch.Tensor, on_hand: torch.Tensor, src: torch.Tensor | None = None,
                           ship_all: bool | torch.Tensor = False) -> torch.Tensor:
    """Allocate a source's on-hand stock to the requests made on it, proportionally (spec §5.1):
    ``alloc_i = q_i · min(1, x⁰ / Σ_j q_j)``, the same rule the environment applies to orders.

    Differentiable in ``requests`` and ``on_hand`` (sub-gradients at the kink ``Σ q = x⁰``), so policy
    heads can use it to make their outputs feasible.

    Args:
        requests: non-negative requests ``[..., M]``.
        on_hand: the sources' stock; ``[...]`` when ``src`` is ``None`` (one source serves all ``M``
            requests), else ``[..., N]``. Negative on-hand (backlog) counts as 0.
        src: optional int64 ``[M]``, the source node of each request; a negative entry is an unlimited
            source (the external supplier), whose requests pass unchanged.
        ship_all: ``True`` (or a bool ``[N]`` per source) for transshipment centers, which hold no stock:
            they ship all their on-hand, proportionally to the requests, or evenly when all are 0.

    Returns:
        The allocations, shaped like ``requests``.
    """
    if src is None:
        src_idx = torch.zeros(requests.shape[-1], dtype=torch.long, device=requests.device)
        on_hand = on_hand.unsqueeze(-1)
        n_nodes = 1
    else:
        src = torch.as_tensor(src, dtype=torch.long, device=requests.device)
        n_nodes = on_hand.shape[-1]
        src_idx = torch.where(src >= 0, src, torch.full_like(src, n_nodes))
    on_hand = torch.cat([on_hand, torch.zeros_like(on_hand[..., :1])], dim=-1)
    n_out = torch.bincount(src_idx, minlength=n_nodes + 1).to(requests.dtype)
    flags = torch.as_tensor(ship_all, dtype=torch.bool, device=requests.device).expand(n_nodes)
    flags = torch.cat([flags, torch.zeros(1, dtype=torch.bool, device=requests.device)])
    return _ration(requests, on_hand, src_idx, n_out, flags)


def step(inv: torch.Tensor, demand_t: torch.Tensor, orders: torch.Tensor,
         net: TorchNetwork) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Advance a batch of networks one period, exactly as the numba kernel does (§2.3), without
    modifying any input.

    Args:
        inv: inventory vectors ``[B, N, K]`` (slot 0 on-hand, negative = backlog; slot k arriving in k).
        demand_t: this period's demand ``[B, S]`` (column s = store ``net.store_index[s]``).
        orders: requested quantities ``[B, E]``, one per edge; clipped to ``[0, max_order]``.
        net: the :class:`TorchNetwork`.

    Returns:
        ``(new_inv, parts)``: ``new_inv [B, N, K]`` and a dict of ``[B]`` tensors — ``"cost"`` (minus the
        kernel's reward; in profit mode holding + procurement − margin on sales), ``"holding"``,
        ``"shortage"`` (reported only, in profit mode), ``"procurement"`` — plus ``"shipped" [B, E]``
        (quantities actually shipped, the env's ``info["orders"]``) and ``"sales" [B, S]``.
    """
    B, N, K = inv.shape
    q = torch.minimum(orders.clamp(min=0.0), net.max_order)
    if net._stores_only:
        return _step_stores(inv, demand_t, q, net)
    on_hand = inv[:, :, 0]
    on_hand_ext = torch.cat([on_hand, torch.zeros_like(on_hand[:, :1])], dim=1)
    shipped = _ration(q, on_hand_ext, net._src_idx, net._n_out, net._ship_all)

    # Shipments leave; only supplier edges are charged (an internal edge's cost is not a purchase).
    sent = torch.zeros_like(on_hand_ext).index_add(1, net._src_idx, shipped)[:, :N]
    on_hand = on_hand - sent
    procurement = (shipped * (net.edge_cost * net._from_supplier)).sum(1)

    # Demand at the stores; upstream nodes pay holding on what they keep after shipping.
    y, sales, store_holding, shortage = _serve(on_hand[:, net.store_index], demand_t, net)
    holding = store_holding + (torch.clamp(on_hand, min=0.0) * net._upstream_holding).sum(1)
    on_hand = on_hand.index_copy(1, net.store_index, y)
    return _advance(inv, on_hand, shipped, net), _parts(holding, shortage, procurement, shipped, sales, net)


def _serve(x0: torch.Tensor, demand_t: torch.Tensor,
           net: TorchNetwork) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Demand at stores holding ``x0 [B, S]``: (stock left — truncated at 0 under lost sales —, sales,
    the stores' holding cost and their shortage cost, both ``[B]``)."""
    y = x0 - demand_t
    over = torch.clamp(y, min=0.0)
    sales = torch.minimum(torch.clamp(x0, min=0.0), demand_t)
    holding = (over * net._store_holding).sum(1)
    shortage = (torch.clamp(-y, min=0.0) * net._store_underage).sum(1)
    return (over if net.lost_demand else y), sales, holding, shortage


def _advance(inv: torch.Tensor, on_hand: torch.Tensor, shipped: torch.Tensor, net: TorchNetwork) -> torch.Tensor:
    """Shift every inventory vector (slot 1 joins the on-hand left this period) and receive each shipment
    into slot ℓ−1 of its destination."""
    B, N, K = inv.shape
    if K > 1:
        new_inv = torch.cat([(on_hand + inv[:, :, 1]).unsqueeze(2), inv[:, :, 2:],
                             torch.zeros_like(inv[:, :, :1])], dim=2)
    else:
        new_inv = on_hand.unsqueeze(2)
    return new_inv.reshape(B, N * K).index_add(1, net._receive_idx, shipped).reshape(B, N, K)


def _parts(holding: torch.Tensor, shortage: torch.Tensor, procurement: torch.Tensor, shipped: torch.Tensor,
           sales: torch.Tensor, net: TorchNetwork) -> dict[str, torch.Tensor]:
    """The period's cost (in profit mode: holding + procurement − margin on sales) and its parts."""
    if net.maximize_profit:
        cost = -((sales * net._store_underage).sum(1) - (holding + procurement))
    else:
        cost = holding + shortage + procurement
    return {"cost": cost, "holding": holding, "shortage": shortage, "procurement": procurement,
            "shipped": shipped, "sales": sales}


def _step_stores(inv: torch.Tensor, demand_t: torch.Tensor, q: torch.Tensor,
                 net: TorchNetwork) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """:func:`step` for networks of independent stores (``net._stores_only``): every order is shipped in
    full by the supplier, so the period is the general one without rationing, shipments out of nodes and
    store/upstream scatters (the twin-vs-kernel tests cover both paths)."""
    y, sales, holding, shortage = _serve(inv[:, :, 0], demand_t, net)
    procurement = (q * net.edge_cost).sum(1) if net._charges_orders else torch.zeros_like(holding)
    return _advance(inv, y, q, net), _parts(holding, shortage, procurement, q, sales, net)


def rollout(net: TorchNetwork, inv0: torch.Tensor, demand: torch.Tensor,
            policy_fn: Callable[[torch.Tensor, int], torch.Tensor]) -> torch.Tensor:
    """Unroll ``T`` periods of a policy through :func:`step`; the graph of the whole trajectory is kept,
    so ``costs.sum().backward()`` is HDPO's full back-propagation through time.

    Args:
        net: the :class:`TorchNetwork`.
        inv0: start inventories ``[B, N, K]``.
        demand: demand scenarios ``[B, T, S]``.
        policy_fn: ``policy_fn(inv, t) -> orders [B, E]``, called once per period on the current state.

    Returns:
        The cost of every period, ``[B, T]`` (minus the environment's rewards).
    """
    inv = inv0
    costs = []
    for t in range(demand.shape[1]):
        inv, parts = step(inv, demand[:, t], policy_fn(inv, t), net)
        costs.append(parts["cost"])
    return torch.stack(costs, dim=1)
