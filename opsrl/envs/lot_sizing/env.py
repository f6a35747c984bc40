"""The stochastic discrete lot-sizing problem on parallel machines, batched.

## Description
A plant of M parallel machines makes I items. Every period each machine either idles or is set up for
one item and makes a fixed batch of it (all-or-nothing production: the discrete lot-sizing problem).
Switching a machine to another item costs F[m, i] and loses Λ[m, i] units; going idle loses the setup.
Demand is random (i.i.d. per item and period), unmet demand is lost, stock is capped at Imax after
demand (the excess is discarded) and every unit left pays a holding cost. The deterministic part of a
step (setups, production) comes before the stochastic part (demand), which makes this the flagship env
for post-decision-state methods (PDPPO). Spec: ``lot_sizing.md``; env card: ``envs/lot_sizing.md``.

## Action space
``MultiDiscrete([I + 1] * M)``: a_m = 0 idles machine m, a_m = k makes item k. Masked actions
(``info["action_mask"]``, ``action_masks()``: int8 [M, I + 1], idle always allowed, item i allowed iff
P[m, i] > 0) are treated as idle, as are values outside {0..I}; with ``exclusive_items`` a machine choosing
an item a lower-index machine already makes this period idles too. ``info["applied_action"]`` shows the
actions after this treatment. Non-integer or NaN actions raise ``ValueError``. Compatibility mode
(``compat="simpleplant"``) has no mask and applies infeasible pairs like the reference (setup paid,
production 0 − Λ).

## Observation space
``Box(0, high, (I [+ M·(I+1)] [+ 1],), float32)``: the stock of every item (divided by Imax with
``obs_normalize=True``), the one-hot setup of every machine (``obs_setup``), and t/T (``obs_time``).
Compatibility mode observes the stock only, like the reference's final agents.

``obs_mode="graph"``: the item–machine bipartite graph as a ``Dict`` of fixed-size arrays (item, machine
and edge features, ``edge_index`` padded with −1, ``counts``), see :mod:`opsrl.envs.lot_sizing.graph`; the
GNN policy :mod:`opsrl.policies.lot_sizing_gnn` acts on it with one set of weights for any I × M.

## Rewards
−(setup + lost-sales + holding cost) of the period; ``info["costs"]`` splits it and
``info["post_decision_reward"]`` = −setup cost, known before demand (r^x of PDPPO).

## Starting state
``random_reset=True`` (the PDPPO presets): I_i ~ U{0..Imax_i − 1}, each machine set up for an item it can
make, uniformly. Otherwise ``initial_inventory`` / ``initial_setup``. The demand of the whole episode is
drawn at reset from the env's generator (common random numbers across policies).

## Episode end
Terminated after ``horizon`` periods (a finite-horizon problem); no truncation.

## Info
``costs`` (setup, lost_sales, holding), ``post_decision_obs`` (same layout as the observation: stock after
production and before demand, not capped — in compatibility mode possibly negative — the new setups, the
decision's t), ``post_decision_reward``, ``demand``, ``produced`` (net units per item), ``lost_units``,
``disposed_units``, ``applied_action``, ``action_mask``.

## Version history
* v0: initial release.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces

from opsrl.core.problem import Problem, Transition
from opsrl.envs.lot_sizing import dynamics as K_
from opsrl.envs.lot_sizing.dynamics import PARALLEL_MIN_BATCH
from opsrl.envs.lot_sizing.graph import N_EDGE_FEATURES, N_ITEM_FEATURES, GraphView
from opsrl.envs.lot_sizing.params import Instance, LotSizingParams


class LotSizingState(NamedTuple):
    inv: np.ndarray  # int64 [B, I]
    setup: np.ndarray  # int64 [B, M]  0 idle, k = item k
    t: np.ndarray  # int64 [B]
    demand: np.ndarray  # int64 [B, T, I], drawn at reset


class LotSizing(Problem):
    params_type = LotSizingParams
    obs_modes = ("flat", "graph")

    def __init__(self, params: LotSizingParams, obs_mode: str = "flat") -> None:
        super().__init__(params, obs_mode)
        inst: Instance = params.instance()
        self.instance = inst
        n_items, n_mach = inst.n_items, inst.n_machines
        self.n_items, self.n_machines, self.horizon = n_items, n_mach, int(params.horizon)
        self.max_episode_steps = self.horizon
        self.compat = params.compat_mode
        self.exclusive = bool(params.exclusive_items)
        self.with_setup, self.with_time = params.observe_setup, params.observe_time
        self.action_space = spaces.MultiDiscrete(np.full(n_mach, n_items + 1, dtype=np.int64))
        self._scale = (1.0 / inst.max_inventory if params.obs_normalize else np.ones(n_items)).astype(np.float64)
        high = [inst.max_inventory * self._scale]
        if self.with_setup:
            high.append(np.ones(n_mach * (n_items + 1)))
        if self.with_time:
            high.append(np.ones(1))
        high = np.concatenate(high).astype(np.float32)
        self.obs_dim = high.size
        self.observation_space = spaces.Box(np.zeros_like(high), high, dtype=np.float32)
        self.graph: GraphView | None = None
        if obs_mode == "graph":  # the kernels still write the flat post-decision obs (obs_dim) into a scratch buffer
            self.graph = GraphView(inst, self.horizon)
            self.observation_space = self.graph.space()
        # static data packed into three arrays (few kernel arguments: the single env pays the call every step)
        self._itab, self._ftab, self._flags = K_.pack_tables(
            inst.production, inst.setup_loss, inst.setup_cost, inst.max_inventory, inst.holding, inst.lost_sales,
            self._scale, self.compat, self.exclusive, self.with_setup, self.with_time, self.horizon)
        self._cdf = np.ascontiguousarray(np.cumsum(inst.demand_pmf, axis=1))
        self._cdf[:, -1] = 1.0 + 1e-12  # a uniform draw can never fall beyond the support
        self._guide = K_.guide_table(self._cdf)
        self._width = K_.output_width(n_items)
        self._cut = tuple(K_.FIRST + k * n_items for k in range(5))  # column blocks of the output buffer
        self._mask = np.ones((n_mach, n_items + 1), dtype=np.int8)
        self._mask[:, 1:] = (inst.production > 0).astype(np.int8)
        self._capable = [np.flatnonzero(inst.production[m] > 0) + 1 for m in range(n_mach)]

    # -- randomness ------------------------------------------------------------------------------------
    def sample_demand(self, batch: int, rng: np.random.Generator) -> np.ndarray:
        """Demand of whole episodes, int64 [batch, T, I], by inverse CDF of each item's pmf."""
        u = rng.random((batch, self.horizon, self.n_items))
        out = np.empty(u.shape, dtype=np.int64)
        (K_.inverse_cdf_parallel if batch >= PARALLEL_MIN_BATCH else K_.inverse_cdf)(u, self._cdf, self._guide, out)
        return out

    def init(self, batch: int, rng: np.random.Generator) -> LotSizingState:
        inst = self.instance
        if self.params.random_reset:
            inv = rng.integers(0, inst.max_inventory, size=(batch, self.n_items), dtype=np.int64)
            setup = np.zeros((batch, self.n_machines), dtype=np.int64)
            for m, cap in enumerate(self._capable):
                if cap.size:
                    setup[:, m] = cap[rng.integers(0, cap.size, size=batch)]
        else:
            inv = np.tile(inst.initial_inventory.astype(np.int64), (batch, 1))
            setup = np.tile(inst.initial_setup.astype(np.int64), (batch, 1))
        return LotSizingState(inv, setup, np.zeros(batch, dtype=np.int64), self.sample_demand(batch, rng))

    # -- transitions -----------------------------------------------------------------------------------
    def check_actions(self, actions: Any) -> np.ndarray:
        """Actions as int64 [B, M]; NaN or non-integer values raise ``ValueError`` (out-of-range = idle)."""
        a = np.asarray(actions)
        kind = a.dtype.kind
        if kind in "iu":  # the common case: MultiDiscrete samples and policy outputs
            return a.astype(np.int64, copy=False)
        if kind == "f":
            if np.isnan(a).any():
                raise ValueError(f"LotSizing: action contains NaN: {actions!r}")
            if (a != np.round(a)).any():
                raise ValueError(f"LotSizing: actions must be integers (0 idle, k = item k): {actions!r}")
        elif kind != "b":
            raise ValueError(f"LotSizing: actions must be integers, got dtype {a.dtype}")
        return a.astype(np.int64)

    def step(self, state: LotSizingState, actions: np.ndarray, active: np.ndarray,
             rng: np.random.Generator) -> Transition:
        B = state.inv.shape[0]
        if actions.shape != (B, self.n_machines):
            if actions.size != B * self.n_machines:
                raise ValueError(f"LotSizing: expected actions of shape ({B}, {self.n_machines}), "
                                 f"got {actions.shape}")
            actions = actions.reshape(B, self.n_machines)
        out = np.empty((B, self._width))
        post = np.empty((B, self.obs_dim), dtype=np.float32)
        applied = np.empty((B, self.n_machines), dtype=np.int64)
        terminated = np.empty(B, dtype=np.bool_)
        kernel = K_.step_parallel if B >= PARALLEL_MIN_BATCH else K_.step_serial
        if self.graph is not None:
            inv_before, t_before = state.inv.copy(), state.t.copy()
        if kernel(state.inv, state.setup, state.t, state.demand, actions, active, self._itab, self._ftab,
                  self._flags, out, post, applied, terminated) == K_.PAST_HORIZON:
            raise RuntimeError(f"LotSizing: step after the horizon ({self.horizon} periods); call reset()")
        cut = self._cut
        info = {
            "costs": {"setup": out[:, K_.C_SETUP], "lost_sales": out[:, K_.C_LOST], "holding": out[:, K_.C_HOLD]},
            "post_decision_obs": post,
            "post_decision_reward": out[:, K_.R_POST],
            "produced": out[:, cut[0]:cut[1]],
            "lost_units": out[:, cut[1]:cut[2]],
            "disposed_units": out[:, cut[2]:cut[3]],
            "demand": out[:, cut[3]:],
            "applied_action": applied,
        }
        if self.graph is not None:  # stock after production (net of setup loss) and the new setups
            info["post_decision_obs"] = self.graph.observe(inv_before + np.rint(info["produced"]).astype(np.int64),
                                                           state.setup, t_before)
        return Transition(out[:, K_.REWARD], terminated, info)

    def post_decision(self, state: LotSizingState, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The deterministic part of a step without touching ``state``: ``(stock after production [B, I],
        new setups [B, M], setup cost [B])`` — for algorithms that plan on post-decision states."""
        inst = self.instance
        post, new_setup, cost, _, _ = K_.post_decision_numpy(state.inv, state.setup, self.check_actions(actions),
                                                             inst.production, inst.setup_loss, inst.setup_cost,
                                                             self.compat, self.exclusive)
        return post, new_setup, cost

    # -- observations ----------------------------------------------------------------------------------
    def observe(self, state: LotSizingState) -> Any:
        if self.graph is not None:
            return self.graph.observe(state.inv, state.setup, state.t)
        B = state.inv.shape[0]
        out = np.empty((B, self.obs_dim), dtype=np.float32)
        fn = K_.flat_observation_parallel if B >= PARALLEL_MIN_BATCH else K_.flat_observation
        fn(state.inv, state.setup, state.t, self._ftab, self._flags, out)
        return out

    def decode(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Stock [B, I] (units), setups [B, M] and t [B] from a batch of flat observations (None when the
        observation does not carry them); graph observations carry all three."""
        if isinstance(obs, dict):  # stock from the first item feature, setups from "is current setup" edges
            items = np.asarray(obs["item_features"], dtype=np.float64).reshape(-1, self.n_items, N_ITEM_FEATURES)
            inv = np.rint(items[:, :, 0] * self.instance.max_inventory).astype(np.int64)
            g = self.graph or GraphView(self.instance, self.horizon)
            edges = np.asarray(obs["edge_features"]).reshape(len(inv), -1, N_EDGE_FEATURES)
            b, e = np.nonzero(edges[:, :g.n_edges, 5] > 0.5)
            setup = np.zeros((len(inv), self.n_machines), dtype=np.int64)
            setup[b, g.edge_m[e]] = g.edge_i[e] + 1
            return inv, setup, np.rint(items[:, 0, 8] * self.horizon).astype(np.int64)
        obs = np.asarray(obs, dtype=np.float64).reshape(-1, self.obs_dim)
        n_items, n_mach = self.n_items, self.n_machines
        inv = np.rint(obs[:, :n_items] / self._scale).astype(np.int64)
        k, setup, t = n_items, None, None
        if self.with_setup:
            setup = obs[:, k:k + n_mach * (n_items + 1)].reshape(-1, n_mach, n_items + 1).argmax(2)
            k += n_mach * (n_items + 1)
        if self.with_time:
            t = np.rint(obs[:, k] * self.horizon).astype(np.int64)
        return inv, setup, t

    def action_mask(self, state: LotSizingState) -> np.ndarray | None:
        if self.compat:
            return None
        # a fresh array every call: callers may keep (or write into) the infos they were given
        out = np.empty((state.inv.shape[0], *self._mask.shape), dtype=np.int8)
        out[...] = self._mask  # (np.broadcast_to(...).copy() costs several times more per call)
        return out

    # -- rendering -------------------------------------------------------------------------------------
    def snapshot(self, state: LotSizingState, index: int) -> dict[str, Any]:
        return {"inv": state.inv[index].copy(), "setup": state.setup[index].copy(), "t": int(state.t[index])}

    def render(self, history: list[dict[str, Any]], mode: str) -> Any:
        from opsrl.envs.lot_sizing.render import render_ansi, render_rgb

        if mode == "ansi":
            return render_ansi(self, history)
        return render_rgb(self, history)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        inst = self.instance
        out["instance"] = {"n_items": self.n_items, "n_machines": self.n_machines, "horizon": self.horizon,
                           "production": inst.production.tolist(), "setup_costs": inst.setup_cost.tolist(),
                           "setup_loss": inst.setup_loss.tolist(), "max_inventory": inst.max_inventory.tolist(),
                           "holding": inst.holding.tolist(), "lost_sales": inst.lost_sales.tolist(),
                           "demand_mean": inst.demand_mean.tolist()}
        return out


__all__ = ["LotSizing", "LotSizingState"]
