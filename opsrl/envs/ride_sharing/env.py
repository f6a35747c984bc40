"""Ride-sharing order dispatch with pooling: the Gymnasium dispatcher ``opsrl/RideSharing-v0``.

## Description
A homogeneous fleet (``fleet_size`` vehicles, ``capacity`` seats) serves orders in a city of zones
(a synthetic 4×16 Manhattan-like grid by default; real Manhattan zones and speeds from pyhailing, or your
own NYC TLC file). Orders arrive continuously (time-varying Poisson OD demand drawn at ``reset``), wait
at most ``patience_s`` and are otherwise lost. Every ``epoch_s`` (60 s) a central platform scores every
(eligible vehicle, visible order) pair; a linear assignment turns the scores into at most one new order
per vehicle and one vehicle per order. A vehicle is eligible when it has a free seat and no pending
pickup (OSPO semantics): it leaves its current leg where it is, drives to the pickup, then drops its
passengers in the order that finishes earliest. Spec: ``ride_sharing.md``; env card:
``envs/ride_sharing.md``; multi-agent view: ``opsrl.marl.ride_sharing_v0``.

## Action space
``Box(-1e4, 1e4, (V, O_max), float32)``: a score per (vehicle, visible-order slot). Rows of ineligible
vehicles and columns of empty slots are ignored. With ``score_transform="softmax"`` (default) each
eligible row becomes a softmax over the visible orders and the matching maximises Σ π (every eligible
vehicle gets an order while orders remain); with ``"identity"`` the scores are the values and a pair not
worth more than ``no_order_value`` is declined. Scores outside the box are clipped to it; NaN raises
``ValueError``. ``matching_backend`` picks scipy or OR-tools (same optimum).

## Observation space
``obs_mode="flat"`` (default): ``Box(-inf, inf, (V·F + V + 5·O_max + O_max + 1,), float32)`` — the blocks of
``obs_mode="dict"`` concatenated in this order: ``vehicles`` (V, F = 8 + 5C: position, free seats,
minutes to the pending pickup, unavailable flag, clock, R_i, mean R, then per on-board order its drop-off,
minutes to drop-off, planned trip minutes and detour; the OSPO layout, /60 for minutes, /10 for rewards),
``vehicle_mask`` (V,) eligible vehicles, ``orders`` (O_max, 5: pickup and drop-off, reveal minute /60),
``order_mask`` (O_max,), ``time`` (1,) = epoch / K. Positions are normalised to the city's box.

## Rewards
Σ_i r_ij over the vehicles matched this epoch: the OSPO reward 3 + km − 3·pickup h − late orders −
3·added h − 5·excess h (``reward_mode="ospo"``) or 1 per assignment (``"platform"``).

## Starting state
t = 0, vehicles idle and empty at the centroid of a uniformly drawn zone; the whole order stream of
the episode is drawn at reset (common random numbers across policies).

## Episode end
``terminated`` after K = horizon_s/epoch_s epochs (30 by default).

## Info
``vehicle_rewards`` (V,), ``assignment`` (V,) order slot or -1, ``group_mask`` (vehicles that got an
order), ``matched_value`` (π of the matched pair), ``fairness_p`` (−Δ population std of R_i), ``metrics``
(cumulative: served, lost, completed, pending, overflow, generated, served_rate, mean_pickup_min,
mean_confirm_min, mean_delivery_min, mean_detour_min, vehicle_km, return, ospo_return), ``served_now``,
``lost_now``, and ``post_decision_obs`` (flat observation after matching, before vehicles move).

## Reported metric
``episode_cost`` = −(sum of rewards): −(undiscounted OSPO return) with ``reward_mode="ospo"`` and
−(served orders) with ``reward_mode="platform"``.

## Version history
* v0: initial release.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces

from opsrl.core.problem import Problem, Transition
from opsrl.envs.ride_sharing import dynamics as K_
from opsrl.envs.ride_sharing.city import build, sample_orders, sample_vehicles
from opsrl.envs.ride_sharing.matching import match, transform
from opsrl.envs.ride_sharing.params import RideParams
from opsrl.envs.ride_sharing.signals import fairness_p

SCORE_BOUND = 1e4
ORDER_FEATURES = 5
TN_MIN = 60.0  # OSPO normalises minutes by 60 (spec §4)


class RideState(NamedTuple):
    t: np.ndarray  # int64 [B] epoch k
    of: np.ndarray  # float64 [B, N, 11] order points, request time, trip record
    oi: np.ndarray  # int64 [B, N, 5] zones, reveal epoch, status, vehicle
    n_orders: np.ndarray  # int64 [B]
    head: np.ndarray  # int64 [B] orders before it are resolved
    vf: np.ndarray  # float64 [B, V, 9]
    vi: np.ndarray  # int64 [B, V, 3]
    ri: np.ndarray  # int64 [B, V, C+1, 2] route stops (order, kind)
    rf: np.ndarray  # float64 [B, V, C+1, 2] (planned time, leg km)
    vis: np.ndarray  # int64 [B, O_max] visible order indices, -1 padded
    elig: np.ndarray  # bool [B, V]
    stats: np.ndarray  # float64 [B, 13] cumulative episode metrics


class RideSharing(Problem):
    params_type = RideParams
    obs_modes = ("flat", "dict")

    def __init__(self, params: RideParams, obs_mode: str = "flat") -> None:
        super().__init__(params, obs_mode)
        p = params
        self.city, self.demand = build(p)
        self.V, self.C, self.O = p.fleet_size, p.capacity, p.max_orders
        self.F = 8 + 5 * p.capacity
        self.n_cap = self.demand.capacity()
        self.max_episode_steps = p.epochs
        self.zones = self.city.zone_table()
        self.speed = np.ascontiguousarray(self.city.speed, dtype=np.float64)
        self.perm_tab, self.perm_start = K_.permutation_table(p.capacity)
        bx = self.city.bbox
        cfg = np.zeros(K_.N_CFG)
        cfg[K_.C_DT], cfg[K_.C_W], cfg[K_.C_CAP] = p.epoch_s, p.patience_epochs, p.capacity
        cfg[K_.C_CENTROID] = 1.0 if p.point_mode == "centroid" else 0.0
        cfg[K_.C_THETA] = p.late_threshold_min
        cfg[K_.C_B0:K_.C_B5 + 1] = p.beta
        cfg[K_.C_PLATFORM] = 1.0 if p.reward_mode == "platform" else 0.0
        cfg[K_.C_LAMBDA] = p.platform_eta_weight
        cfg[K_.C_TOFF], cfg[K_.C_SLOT] = p.start_hour * 3600.0, self.city.slot_len
        cfg[K_.C_POOL], cfg[K_.C_K], cfg[K_.C_GAMMA] = float(p.pooling), p.epochs, p.gamma
        cfg[K_.C_DRAIN], cfg[K_.C_TN] = float(p.drain), TN_MIN
        cfg[K_.C_XMIN], cfg[K_.C_XR] = bx[0], max(bx[1] - bx[0], 1e-9)
        cfg[K_.C_YMIN], cfg[K_.C_YR] = bx[2], max(bx[3] - bx[2], 1e-9)
        self.cfg = cfg
        V, n_o, F = self.V, self.O, self.F
        self.flat_dim = V * F + V + n_o * ORDER_FEATURES + n_o + 1
        self.action_space = spaces.Box(-SCORE_BOUND, SCORE_BOUND, (V, n_o), np.float32)
        self.dict_space = spaces.Dict({
            "vehicles": spaces.Box(-np.inf, np.inf, (V, F), np.float32),
            "vehicle_mask": spaces.Box(0.0, 1.0, (V,), np.float32),
            "orders": spaces.Box(-np.inf, np.inf, (n_o, ORDER_FEATURES), np.float32),
            "order_mask": spaces.Box(0.0, 1.0, (n_o,), np.float32),
            "time": spaces.Box(0.0, 1.0, (1,), np.float32),
        })
        self.flat_space = spaces.Box(-np.inf, np.inf, (self.flat_dim,), np.float32)
        self.observation_space = self.dict_space if obs_mode == "dict" else self.flat_space

    # -- transitions ----------------------------------------------------------------------------------
    def init(self, batch: int, rng: np.random.Generator) -> RideState:
        p, V, S = self.params, self.V, self.C + 1
        orders = sample_orders(p, self.city, self.demand, self.n_cap, batch, rng)
        zones, pos = sample_vehicles(p, self.city, self.demand, batch, rng)
        N = self.n_cap
        of = np.zeros((batch, N, K_.N_OF))
        of[:, :, K_.PX:K_.QY + 1] = orders["pt"]
        of[:, :, K_.TREQ] = orders["t"]
        of[:, :, K_.T_ASSIGN:] = np.nan  # unknown until it happens
        oi = np.zeros((batch, N, K_.N_OI), dtype=np.int64)
        oi[:, :, K_.ZO:K_.ZD + 1] = orders["z"]
        oi[:, :, K_.REVEAL] = orders["b"]
        oi[:, :, K_.VEH] = -1
        vf = np.zeros((batch, V, K_.N_VF))
        vf[:, :, K_.X:K_.Y + 1] = pos
        vf[:, :, K_.FX:K_.FY + 1] = pos
        vi = np.zeros((batch, V, K_.N_VI), dtype=np.int64)
        vi[:, :, K_.ZONE] = zones
        stats = np.zeros((batch, K_.N_STATS))
        stats[:, K_.S_GENERATED] = orders["n"]
        state = RideState(
            t=np.zeros(batch, dtype=np.int64), of=of, oi=oi, n_orders=orders["n"].astype(np.int64),
            head=np.zeros(batch, dtype=np.int64), vf=vf, vi=vi,
            ri=np.full((batch, V, S, 2), -1, dtype=np.int64), rf=np.zeros((batch, V, S, 2)),
            vis=np.full((batch, self.O), -1, dtype=np.int64), elig=np.zeros((batch, V), dtype=np.bool_),
            stats=stats)
        K_.refresh_all(state.t, state.of, state.oi, state.n_orders, state.head, state.vi, state.ri, state.vis,
                       state.elig, state.stats, self.cfg)
        return state

    def check_actions(self, actions: Any) -> np.ndarray:
        """Scores [B, V, O_max] (float32 kept as is, other dtypes as float64); NaN raises ``ValueError``,
        values are clipped to ±1e4. One min and one max pass (both propagate NaN) instead of a float64 copy,
        a NaN scan and a clip: at V = 1000 the score matrix has a million entries."""
        a = np.asarray(actions)
        if a.dtype != np.float32 and a.dtype != np.float64:
            a = a.astype(np.float64)
        try:
            a = a.reshape(-1, self.V, self.O)
        except ValueError:
            raise ValueError(f"RideSharing: scores of shape {np.shape(actions)} do not fit (batch, V={self.V}, "
                             f"O_max={self.O})") from None
        lo, hi = a.min(initial=0.0), a.max(initial=0.0)
        if np.isnan(lo) or np.isnan(hi):
            raise ValueError("RideSharing: scores contain NaN")
        if lo < -SCORE_BOUND or hi > SCORE_BOUND:
            a = np.clip(a, -SCORE_BOUND, SCORE_BOUND)
        return a

    def assignment(self, state: RideState, actions: np.ndarray, active: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The matching of every active env: (order index [B, V] or -1, slot [B, V] or -1, value π [B, V])."""
        p = self.params
        B = state.t.shape[0]
        assign = np.full((B, self.V), -1, dtype=np.int64)
        slot = np.full((B, self.V), -1, dtype=np.int64)
        value = np.zeros((B, self.V))
        for b in range(B):
            if not active[b]:
                continue
            rows = np.flatnonzero(state.elig[b])
            M = int((state.vis[b] >= 0).sum())
            if rows.size == 0 or M == 0:
                continue
            pi = transform(actions[b][np.ix_(rows, np.arange(M))], p.score_transform)
            r, c = match(pi, p.no_order_value, p.matching_backend)
            assign[b, rows[r]] = state.vis[b, c]
            slot[b, rows[r]] = c
            value[b, rows[r]] = pi[r, c]
        return assign, slot, value

    def step(self, state: RideState, actions: np.ndarray, active: np.ndarray,
             rng: np.random.Generator) -> Transition:
        B = state.t.shape[0]
        if (state.t[active] >= self.params.epochs).any():
            raise RuntimeError(f"RideSharing: step after the last epoch ({self.params.epochs}); call reset()")
        if actions.shape != (B, self.V, self.O):
            actions = self.check_actions(actions)
        assign, slot, value = self.assignment(state, actions, active)
        r_before = state.vf[:, :, K_.RCUM].copy()
        before = state.stats.copy()
        vreward = np.zeros((B, self.V))
        S = self.C + 1
        K_.apply_batch(state.t, state.of, state.oi, state.vf, state.vi, state.ri, state.rf, state.stats, assign,
                       self.zones, self.speed, self.cfg, self.perm_tab, self.perm_start,
                       np.zeros((B, 2 * S), dtype=np.int64), np.zeros((B, 2 * S + 8)), vreward)
        info: dict[str, Any] = {}
        if self.params.post_decision:
            info["post_decision_obs"] = self._flat(state)
        advance = K_.advance_parallel if B >= K_.PARALLEL_MIN_BATCH else K_.advance_serial
        advance(active, state.t, state.of, state.oi, state.n_orders, state.head, state.vf, state.vi, state.ri,
                state.rf, state.vis, state.elig, state.stats, self.zones, self.cfg)
        r_after = state.vf[:, :, K_.RCUM]
        info.update({
            "vehicle_rewards": vreward,
            "assignment": slot,
            "group_mask": assign >= 0,
            "matched_value": value,
            "fairness_p": fairness_p(r_before, r_after),
            "served_now": state.stats[:, K_.S_SERVED] - before[:, K_.S_SERVED],
            "lost_now": state.stats[:, K_.S_LOST] - before[:, K_.S_LOST],
            "metrics": self.metrics(state),
        })
        terminated = (state.t >= self.params.epochs) & active
        return Transition(vreward.sum(axis=1), terminated, info)

    def metrics(self, state: RideState) -> dict[str, np.ndarray]:
        """Cumulative episode metrics per env (spec §2.7; minutes and km)."""
        s = state.stats
        served, done = s[:, K_.S_SERVED], s[:, K_.S_DONE]
        gen = s[:, K_.S_GENERATED]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = {
                "served": served, "lost": s[:, K_.S_LOST], "completed": done, "pending": s[:, K_.S_PENDING],
                "overflow": s[:, K_.S_OVERFLOW], "generated": gen,
                "served_rate": np.where(gen > 0, served / np.maximum(gen, 1), 0.0),
                "mean_pickup_min": np.where(served > 0, s[:, K_.S_PICKUP] / np.maximum(served, 1), 0.0),
                "mean_confirm_min": np.where(served > 0, s[:, K_.S_CONFIRM] / np.maximum(served, 1), 0.0),
                "mean_delivery_min": np.where(done > 0, s[:, K_.S_DELIVERY] / np.maximum(done, 1), 0.0),
                "mean_detour_min": np.where(done > 0, s[:, K_.S_DETOUR] / np.maximum(done, 1), 0.0),
                "vehicle_km": s[:, K_.S_KM].copy(), "return": s[:, K_.S_RETURN].copy(),
                "ospo_return": s[:, K_.S_OSPO].copy(),
            }
        return out

    # -- observations ---------------------------------------------------------------------------------
    def observe_dict(self, state: RideState) -> dict[str, np.ndarray]:
        B, V, n_o, F = state.t.shape[0], self.V, self.O, self.F
        out = {"vehicles": np.empty((B, V, F), np.float32), "vehicle_mask": np.empty((B, V), np.float32),
               "orders": np.empty((B, n_o, ORDER_FEATURES), np.float32),
               "order_mask": np.empty((B, n_o), np.float32),
               "time": np.empty((B, 1), np.float32)}
        kernel = K_.observe_parallel if B >= K_.PARALLEL_MIN_BATCH else K_.observe_serial
        kernel(state.t, state.of, state.oi, state.vf, state.vi, state.ri, state.rf, state.vis, self.cfg,
               state.vf[:, :, K_.RCUM].mean(axis=1), out["vehicles"], out["vehicle_mask"], out["orders"],
               out["order_mask"], out["time"], np.zeros((B, self.C + 1), dtype=np.int64))
        return out

    def _flat(self, state: RideState) -> np.ndarray:
        d = self.observe_dict(state)
        B = state.t.shape[0]
        return np.concatenate([d["vehicles"].reshape(B, -1), d["vehicle_mask"], d["orders"].reshape(B, -1),
                               d["order_mask"], d["time"]], axis=1)

    def observe(self, state: RideState) -> Any:
        return self.observe_dict(state) if self.obs_mode == "dict" else self._flat(state)

    def split_flat(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """The blocks of a batch of flat observations (views, no copy)."""
        V, n_o, F = self.V, self.O, self.F
        B = flat.shape[0]
        a, b_, c = V * F, V * F + V, V * F + V + n_o * ORDER_FEATURES
        return {"vehicles": flat[:, :a].reshape(B, V, F), "vehicle_mask": flat[:, a:b_],
                "orders": flat[:, b_:c].reshape(B, n_o, ORDER_FEATURES), "order_mask": flat[:, c:c + n_o],
                "time": flat[:, c + n_o:]}

    def pair_features(self, state: RideState, b: int, rows: np.ndarray | None = None,
                      cols: np.ndarray | None = None) -> np.ndarray:
        """[len(rows), len(cols), 5]: (ETA min, added trip minutes A, N_late, direct km D, reward r) of
        inserting visible-order slot ``cols`` into eligible vehicle ``rows`` of env ``b`` now (the candidate
        pair features a scorer network can use; default: all eligible vehicles × visible slots)."""
        rows = np.flatnonzero(state.elig[b]) if rows is None else np.asarray(rows, dtype=np.int64)
        if not state.elig[b, rows].all():
            raise ValueError("pair_features: every row must be an eligible vehicle (state.elig)")
        n_vis = int((state.vis[b] >= 0).sum())
        cols = np.arange(n_vis) if cols is None else np.asarray(cols, dtype=np.int64)
        if cols.size and (cols.min() < 0 or cols.max() >= n_vis):
            raise ValueError(f"pair_features: order slots must be in [0, {n_vis})")
        out = np.zeros((rows.size, cols.size, K_.N_PAIR))
        S = self.C + 1
        B = state.t.shape[0]
        K_.pair_values(b, rows, state.vis[b, cols].copy(), state.t, state.of, state.oi, state.vf, state.vi,
                       state.ri, state.rf, self.zones, self.speed, self.cfg, self.perm_tab, self.perm_start,
                       np.zeros((B, 2 * S), dtype=np.int64), np.zeros((B, 2 * S + 8)), out)
        return out

    def pair_eta(self, state: RideState, b: int) -> tuple[np.ndarray, np.ndarray]:
        """(eligible vehicles [E], pickup ETA in minutes [E, M] to every visible slot) of env ``b`` now: the
        first leg of the insertion alone — cheap enough for every pair, so candidate pruning can rank the
        vehicles of each order before the full insertion (:meth:`pair_features_list`) runs on a few."""
        rows = np.flatnonzero(state.elig[b])
        n_vis = int((state.vis[b] >= 0).sum())
        out = np.empty((rows.size, n_vis))
        if rows.size and n_vis:
            K_.eta_matrix(b, rows, state.vis[b, :n_vis].copy(), state.t, state.of, state.oi, state.vf, state.vi,
                          self.zones, self.speed, self.cfg, out)
        return rows, out

    def pair_features_list(self, state: RideState, b: int, vehicles: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """[n, 5] pair features (as :meth:`pair_features`) of the listed pairs (``vehicles[n]``, visible slot
        ``slots[n]``) of env ``b``; the caller guarantees eligible vehicles and valid slots."""
        vehicles = np.ascontiguousarray(vehicles, dtype=np.int64)
        out = np.zeros((vehicles.size, K_.N_PAIR))
        if vehicles.size:
            S, B = self.C + 1, state.t.shape[0]
            K_.pair_values_list(b, vehicles, state.vis[b, np.asarray(slots, dtype=np.int64)], state.t, state.of,
                                state.oi, state.vf, state.vi, state.ri, state.rf, self.zones, self.speed,
                                self.cfg, self.perm_tab, self.perm_start, np.zeros((B, 2 * S), dtype=np.int64),
                                np.zeros((B, 2 * S + 8)), out)
        return out

    def candidate_graph(self, state: RideState, b: int, obs: dict[str, np.ndarray], k: int | None = 16
                        ) -> dict[str, np.ndarray]:
        """The vehicle–order candidate graph of env ``b`` now, as numpy arrays (what a GNN pair scorer reads;
        :mod:`opsrl.policies.ride_gnn` turns it into a ``HeteroData``).

        Nodes: the E eligible vehicles (``rows``: their ids; ``vehicle_x`` [E, F] = their observation rows) and
        the M visible orders (``order_x`` [M, 6] = the 5 order features and the age (k − b_o)/W). Edges
        ``src`` (local vehicle index) → ``dst`` (order slot), row-major: each vehicle's ``k`` lowest-ETA orders
        ∪ each order's ``k`` lowest-ETA vehicles (ties → lower index), or every pair when ``k`` is None or
        ≥ min(E, M). Why both sides: every vehicle needs candidates for its softmax, and every order needs
        its competing vehicles. ``edge_attr`` [n, 5] = [ETA/60, A/60, N_late, D/10, r/10] from the simulator's
        insertion kernel. Only the cheap ETA kernel runs on all E × M pairs. ``obs`` is the batch's dict
        observation (or env ``b``'s slice of it)."""
        rows, eta = self.pair_eta(state, b)
        E, M = eta.shape
        if E and M and k is not None and k < min(E, M):
            keep = np.zeros((E, M), dtype=np.bool_)
            top = np.empty((M, k), dtype=np.int64)
            K_.topk_rows(eta, k, top)
            keep[top.ravel(), np.repeat(np.arange(M), k)] = True
            top = np.empty((E, k), dtype=np.int64)
            K_.topk_rows(np.ascontiguousarray(eta.T), k, top)
            keep[np.repeat(np.arange(E), k), top.ravel()] = True
            src, dst = np.nonzero(keep)
        else:
            src, dst = np.repeat(np.arange(E), M), np.tile(np.arange(M), E)
        feats = self.pair_features_list(state, b, rows[src], dst)
        scale = np.array([1 / TN_MIN, 1 / TN_MIN, 1.0, 0.1, 0.1])
        veh = obs["vehicles"] if obs["vehicles"].ndim == 2 else obs["vehicles"][b]
        orders = obs["orders"] if obs["orders"].ndim == 2 else obs["orders"][b]
        age = (state.t[b] - state.oi[b, state.vis[b, :M], K_.REVEAL]) / max(self.params.patience_epochs, 1)
        return {"rows": rows, "vehicle_x": np.asarray(veh[rows], dtype=np.float32),
                "order_x": np.column_stack([orders[:M], age]).astype(np.float32),
                "src": src.astype(np.int64), "dst": dst.astype(np.int64),
                "edge_attr": (feats[:, [K_.P_ETA, K_.P_ADDED, K_.P_LATE, K_.P_DIST, K_.P_REWARD]] * scale
                              ).astype(np.float32)}

    def to_hetero_data(self, state: RideState, b: int = 0, k: int | None = 32):
        """torch-geometric ``HeteroData`` of env ``b`` (spec §4 graph view): vehicle, order and zone nodes;
        (vehicle, candidate, order) edges — all eligible × visible pairs, or each vehicle's ``k`` lowest-ETA
        orders — with [ETA/60, A/60, N_late, D/10]; zone adjacency; vehicle-in-zone and order-from/to-zone."""
        import torch
        from torch_geometric.data import HeteroData

        d = {key: v[b] for key, v in self.observe_dict(state).items()}
        n_vis = int((state.vis[b] >= 0).sum())
        vis = state.vis[b, :n_vis]
        rows = np.flatnonzero(state.elig[b])
        feats = self.pair_features(state, b, rows) if rows.size and n_vis else np.zeros((rows.size, n_vis, 5))
        if k is not None and n_vis > k:
            keep = np.argsort(feats[:, :, K_.P_ETA], axis=1, kind="stable")[:, :k]
            src = np.repeat(rows, k)
            dst = keep.ravel()
            ef = feats[np.repeat(np.arange(rows.size), k), dst]
        else:
            src, dst = np.repeat(rows, n_vis), np.tile(np.arange(n_vis), rows.size)
            ef = feats.reshape(-1, 5)
        g = HeteroData()
        vz = state.vi[b, :, K_.ZONE]
        g["vehicle"].x = torch.from_numpy(np.column_stack([d["vehicles"], vz]).astype(np.float32))
        oz = state.oi[b, vis][:, [K_.ZO, K_.ZD]]
        age = (state.t[b] - state.oi[b, vis, K_.REVEAL]) / max(self.params.patience_epochs, 1)
        g["order"].x = torch.from_numpy(np.column_stack([d["orders"][:n_vis], age, oz]).astype(np.float32))
        Z = self.city.n_zones
        bx = self.city.bbox
        cen = (self.city.centroid - bx[[0, 2]]) / np.maximum(bx[[1, 3]] - bx[[0, 2]], 1e-9)
        idle = np.bincount(vz[state.vi[b, :, K_.NSTOP] == 0], minlength=Z)
        eligible = np.bincount(vz[state.elig[b]], minlength=Z)
        rate = self._zone_rate(state.t[b])
        g["zone"].x = torch.from_numpy(np.column_stack([
            cen, idle, eligible, np.bincount(oz[:, 0], minlength=Z), np.bincount(oz[:, 1], minlength=Z),
            rate]).astype(np.float32))
        scale = np.array([1 / TN_MIN, 1 / TN_MIN, 1.0, 0.1])
        g["vehicle", "candidate", "order"].edge_index = torch.from_numpy(np.array([src, dst], dtype=np.int64))
        g["vehicle", "candidate", "order"].edge_attr = torch.from_numpy(
            (ef[:, [K_.P_ETA, K_.P_ADDED, K_.P_LATE, K_.P_DIST]] * scale).astype(np.float32))
        adj = self.city.adjacency
        dist = self.city.distance()[adj[0], adj[1]]
        tau = 60.0 * dist / self.city.speed[0][adj[0], adj[1]]  # minutes
        g["zone", "adjacent", "zone"].edge_index = torch.from_numpy(adj.copy())
        g["zone", "adjacent", "zone"].edge_attr = torch.from_numpy(
            np.column_stack([tau / TN_MIN, dist / 10.0]).astype(np.float32))
        g["vehicle", "in", "zone"].edge_index = torch.from_numpy(np.array([np.arange(self.V), vz], dtype=np.int64))
        g["order", "from", "zone"].edge_index = torch.from_numpy(np.array([np.arange(n_vis), oz[:, 0]], dtype=np.int64))
        g["order", "to", "zone"].edge_index = torch.from_numpy(np.array([np.arange(n_vis), oz[:, 1]], dtype=np.int64))
        return g

    def _zone_rate(self, k: int) -> np.ndarray:
        """Forecast origin rate per zone (orders/min) over the next 15 minutes, from the demand model."""
        Z = self.city.n_zones
        dm = self.demand
        if dm.kind != "poisson":
            return np.zeros(Z)
        m0 = int(k * self.params.epoch_s // 60)
        m1 = min(m0 + 15, dm.minute_rate.size)
        if m1 <= m0:
            return np.zeros(Z)
        out = np.zeros(Z)
        for m in range(m0, m1):
            cdf = dm.od_cdf[dm.minute_slot[m]]
            pmf = np.diff(np.concatenate([[0.0], cdf])).reshape(Z, Z).sum(1)
            out += dm.minute_rate[m] * pmf
        return out / (m1 - m0)

    def episode_cost(self, rewards: np.ndarray) -> np.ndarray:
        """−(total reward of the episode): −OSPO return (``ospo``) or −served orders (``platform``)."""
        return -rewards.sum(axis=0)

    # -- rendering ------------------------------------------------------------------------------------
    def snapshot(self, state: RideState, index: int) -> dict[str, Any]:
        b = index
        vis = state.vis[b][state.vis[b] >= 0]
        targets = np.full((self.V, 2), np.nan)
        for i in np.flatnonzero(state.vi[b, :, K_.NSTOP] > 0):
            j, kind = state.ri[b, i, 0]
            targets[i] = state.of[b, j, [K_.PX, K_.PY]] if kind == K_.PICK else state.of[b, j, [K_.QX, K_.QY]]
        return {"t": int(state.t[b]), "pos": state.vf[b, :, K_.X:K_.Y + 1].copy(),
                "load": state.vi[b, :, K_.LOAD].copy(), "eligible": state.elig[b].copy(), "targets": targets,
                "orders": state.of[b, vis][:, K_.PX:K_.QY + 1].copy(),
                "metrics": {k: float(v[b]) for k, v in self.metrics(state).items()}}

    def render(self, history: list[dict[str, Any]], mode: str) -> Any:
        from opsrl.envs.ride_sharing.render import render_ansi, render_rgb

        if mode == "ansi":
            return render_ansi(self, history[-1])
        return render_rgb(self, history[-1])

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["city"] = {"zones": self.city.n_zones, "bbox_km": self.city.bbox.tolist(),
                       "speed_slots": int(self.city.speed.shape[0])}
        out["demand"] = {"kind": self.demand.kind, "expected_orders": self.demand.expected_orders,
                         "order_capacity": self.n_cap}
        out["epochs"] = self.params.epochs
        out["vehicle_features"] = self.F
        return out


__all__ = ["RideSharing", "RideState"]
