"""References of an inventory instance, best first: exact optimum, analytic bound, best tuned heuristic,
perfect-information (hindsight LP) bound. ``opsrl solve`` prints them all; ``evaluate`` uses the first.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from gymnasium.utils import seeding

from opsrl.envs.inventory import solver
from opsrl.envs.inventory.env import InventoryNetwork
from opsrl.envs.inventory.network import ECHELON, STORE, WAREHOUSE
from opsrl.eval.reference import Reference

HINDSIGHT_MAX_SCENARIOS = 64


def exact_references(problem: InventoryNetwork) -> list[Reference]:
    """Closed forms and DPs that need no simulation (spec §5.2–§5.5)."""
    net, p = problem.network, problem.params
    kinds = set(net.node_kind.tolist())
    lead = np.array([net.edge_lead[net.edge_dst == n].min() for n in range(net.n_nodes)])
    if p.maximize_profit:
        return []
    if kinds == {STORE} and not net.lost_demand and p.demand_distribution == "normal":
        costs = [solver.base_stock_optimum(net.demand_mean[i], net.demand_std[i], int(lead[i]),
                                           net.underage[i], net.holding[i])[1] for i in range(net.n_stores)]
        note = "" if (net.demand_mean >= 3 * net.demand_std).all() else " (clipping at 0 ignored)"
        return [Reference(float(np.mean(costs)), "optimum", "analytic base stock, spec §5.2" + note)]
    if kinds == {STORE} and net.lost_demand and p.demand_distribution == "poisson":
        table = solver.zipkin_table()
        costs, sources = [], set()
        for i in range(net.n_stores):
            key = (int(lead[i]), int(round(net.underage[i])))
            if net.demand_mean[i] == 5.0 and net.holding[i] == 1.0 and key in table \
                    and net.underage[i] == key[1]:
                costs.append(table[key])
                sources.add("Zipkin (2008) table, spec §5.3")
            elif lead[i] <= 2:
                costs.append(solver.lost_sales_dp(net.demand_mean[i], int(lead[i]), net.underage[i],
                                                  net.holding[i])[0])
                sources.add("lost-sales average-cost DP")
            else:
                return []
        return [Reference(float(np.mean(costs)), "optimum", "; ".join(sorted(sources)))]
    serial = (net.n_stores == 1 and WAREHOUSE in kinds and not net.lost_demand
              and p.demand_distribution == "normal" and net.holds_stock.all() and net.n_edges == net.n_nodes)
    if serial:
        order = np.arange(net.n_nodes)[::-1]  # store -> top
        levels, cost = solver.clark_scarf(net.holding[order].tolist(), lead[order].tolist(),
                                          float(net.underage[-1]), float(net.demand_mean[0]),
                                          float(net.demand_std[0]), clip=p.demand_clip)
        return [Reference(float(cost), "optimum", "Clark–Scarf echelon base stock, spec §5.4",
                          extra={"echelon_levels_store_to_top": np.round(levels, 3).tolist()})]
    center = (not net.holds_stock.all()) and ECHELON not in kinds and not net.lost_demand \
        and p.demand_distribution == "normal" and len(set(net.holding[net.store_index].tolist())) == 1 \
        and len(set(net.underage[net.store_index].tolist())) == 1
    if center:
        wh = int(np.flatnonzero(net.node_kind == WAREHOUSE)[0])
        store_lead = {int(lead[s]) for s in net.store_index}
        if len(store_lead) == 1:
            value = solver.pooled_transshipment_bound(
                net.demand_mean, net.demand_std, int(lead[wh]), store_lead.pop(),
                float(net.underage[net.store_index[0]]), float(net.holding[net.store_index[0]]),
                float(p.demand_correlation))
            return [Reference(float(value), "bound", "pooled newsvendor lower bound, spec §5.5")]
    return []


def hindsight_reference(problem: InventoryNetwork, episodes: int, seed: int, batch_size: int,
                        time_limit: float | None = None) -> Reference | None:
    """Perfect-information LP bound on the evaluation scenarios of ``evaluate`` (same seeds)."""
    from opsrl.eval.evaluate import scenario_seeds

    net = problem.network
    lp_net = solver.Network(node_kind=net.node_kind, holding=net.holding, underage=net.underage,
                            edge_src=net.edge_src, edge_dst=net.edge_dst, edge_lead=net.edge_lead,
                            edge_cost=net.edge_cost, lost_demand=net.lost_demand, store_index=net.store_index,
                            holds_stock=net.holds_stock)
    n_max = min(episodes, HINDSIGHT_MAX_SCENARIOS)
    costs, start = [], time.perf_counter()
    for n, chunk_seed in scenario_seeds(seed, episodes, batch_size):
        state = problem.init(n, seeding.np_random(chunk_seed)[0])
        for i in range(n):
            if len(costs) >= n_max or (time_limit and time.perf_counter() - start > time_limit):
                break
            costs.append(float(solver.hindsight_lp(lp_net, state.demand[i], state.inv[i],
                                                   warmup=problem.params.warmup)[0]))
    if not costs:
        return None
    from opsrl.eval.stats import mean_ci95

    mean, half = mean_ci95(np.array(costs))
    return Reference(mean, "bound", f"hindsight LP (OR-tools GLOP) on the first {len(costs)} evaluation "
                     "scenarios, spec §5.6", ci95=half, extra={"scenarios": len(costs)})


def heuristic_reference(env_id: str, preset: str | None, overrides: dict[str, Any], problem: InventoryNetwork,
                        episodes: int, seed: int, batch_size: int) -> Reference | None:
    """The best tuned heuristic on the same scenarios."""
    from opsrl.eval.evaluate import evaluate

    names = ["base_stock"]
    if problem.network.lost_demand:
        names.append("capped_base_stock")
    net = problem.network
    tree = (np.bincount(net.edge_dst, minlength=net.n_nodes) <= 1).all()
    if tree and WAREHOUSE in net.node_kind:
        names.append("echelon_stock")
    results = [evaluate(n, env_id, preset, episodes=episodes, seed=seed, overrides=overrides,
                        batch_size=batch_size, reference=None) for n in names]
    best = min(results, key=lambda r: r.mean_cost)
    return Reference(best.mean_cost, "policy", f"best tuned heuristic: {best.policy}", ci95=best.ci95)


def references(problem: InventoryNetwork, env_id: str, preset: str | None, overrides: dict[str, Any],
               episodes: int = 100, seed: int = 0, batch_size: int = 1024,
               time_limit: float | None = None, best_only: bool = False) -> list[Reference]:
    refs = exact_references(problem)
    if refs and best_only:
        return refs
    if not refs or refs[0].kind != "optimum":
        ref = heuristic_reference(env_id, preset, overrides, problem, episodes, seed, batch_size)
        if ref is not None:
            refs.append(ref)
        ref = hindsight_reference(problem, episodes, seed, batch_size, time_limit)
        if ref is not None:
            refs.append(ref)
    order = {"optimum": 0, "bound": 1, "policy": 2}
    # an analytic bound ranks before a policy; the weak hindsight bound goes last
    return sorted(refs, key=lambda r: (order.get(r.kind, 3) if "hindsight" not in r.source else 4))
