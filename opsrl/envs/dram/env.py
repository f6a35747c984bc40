"""The DRAM memory-controller design-space problem (``opsrl/DramController-v0``).

## Description
Choose the 10 knobs of a DDR3/DDR4 memory controller (page policy, scheduler, scheduler buffer, request
buffer size, response queue, refresh policy, max postponed / pulled-in refreshes, arbiter, max active
transactions) so that a memory trace runs fast, or at low power. Each evaluation runs the whole trace through
opsrl's numba controller + DRAM simulator (a validated re-implementation of the DRAMSys model that ArchGym's
DRAMGym wraps; spec ``dram.md``, env card ``envs/dram.md``). The design space has 442,368 points and every
preset has an exact optimum by exhaustive enumeration (``opsrl solve``).

## Action space
``form="bandit"`` (default): ``MultiDiscrete([4, 3, 3, 8, 2, 2, 4, 4, 3, 8])``, the knob indices in agent
order (ArchGym RL encoding; all zeros = ArchGym's ``policy.json``). ``form="sequential"``: ``Discrete(8)``, the
index of knob ``t mod 10``; indices ≥ n_k are clipped to n_k − 1 (documented, deterministic) and
``info["action_mask"]`` marks the valid ones. NaN raises ``ValueError``; out-of-range MultiDiscrete entries
are clipped.

## Observation space
``obs_mode="flat"`` (the spec's ``full`` view): ``Box(0, 1e3, (23,))`` — last metrics ÷ reference-configuration
metrics (makespan, energy, power, mean and p99 latency; zeros before the first evaluation), the current knob
indices ÷ (n_k − 1), and 8 workload/device context features (stride-64 fraction, write fraction, log2 span / 32,
N / 1e5, bank-usage entropy, (bank, row) reuse, DDR3/DDR4 one-hot). The sequential form appends the one-hot
of the knob to set now and t / H (34 dims). ``obs_mode="archgym3"``: ``Box(0, 1e3, (3,))`` = [energy mJ,
power W, makespan·latency_scale] of the last evaluation (ArchGym's observation).

## Rewards
``reward_mode="normalized"`` (default): clip(1 − J/J_ref, −1, 1), J the objective of the evaluated configuration
and J_ref that of the reference configuration. ``efficiency``: data-bus bound / makespan ∈ (0, 1].
``target_bounded``: Π (1 − min(1, |x − t| / t)) over the targeted metrics. ``archgym_latency|power|both``:
ArchGym's target rewards t/|x − t| capped at ``reward_cap`` (units fixed: makespan in ns × latency_scale,
power in W). Sequential: sparse r(c_H) at the last step, or with ``simulate_every_step`` the telescoping
r(c_t) − r(c_{t−1}).

## Starting state
Bandit: the reference configuration (all zeros) in the observation, no evaluation. Sequential: the reference
configuration (``start="reference"``) or a uniform random one (``start="random"``).

## Episode end
Bandit: terminates after one step. Sequential: terminates after ``horizon`` steps.

## Info
``metrics`` (total_time_ns, energy_uj, avg_power_mw, mean_latency_ns, p99_latency_ns) and ``objective`` (J) of
the last evaluation (zeros before the first), ``evaluated`` (whether this step simulated), ``config`` (knobs).
The episode cost reported by ``opsrl eval`` is J of the final configuration (ns, mW, µJ·µs, or × reference
for ``both``), so the gap to the exhaustive optimum is the regret in percent.

## Version history
* v0: initial release.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces

from opsrl.core.errors import ParameterError
from opsrl.core.problem import Problem, Transition
from opsrl.envs.dram.devices import get_device
from opsrl.envs.dram.params import DramParams
from opsrl.envs.dram.search import objective_values
from opsrl.envs.dram.simulator import KNOB_NAMES, KNOBS, NVEC, REFERENCE_CONFIG, Evaluator
from opsrl.envs.dram.traces import as_trace, canonical_name, context_features

N_KNOBS = 10
SHARED_DIM = 23
SEQ_DIM = SHARED_DIM + N_KNOBS + 1
OBS_METRICS = ("total_time_ns", "energy_uj", "avg_power_mw", "mean_latency_ns", "p99_latency_ns")
OBS_HIGH = 1e3
MAX_TRACE_CACHE = 32


class DramState(NamedTuple):
    knobs: np.ndarray  # int64 [B, 10] current configuration
    t: np.ndarray  # int64 [B]
    last: np.ndarray  # float64 [B, 5] last metrics (raw units), zeros before the first evaluation
    value: np.ndarray  # float64 [B] reward value r(c) of the current configuration (dense sequential reward)
    episode_objective: np.ndarray  # float64 [B] J at the first termination since reset (episode_cost)
    trace_seed: np.ndarray  # int64 [B] trace of the episode (resample_trace), else the preset's seed


class DramController(Problem):
    params_type = DramParams
    obs_modes = ("flat", "archgym3")

    def __init__(self, params: DramParams, obs_mode: str = "flat") -> None:
        super().__init__(params, obs_mode)
        p = params
        self.device = get_device(p.memory)
        self.generated = _is_alias(p.trace)
        if p.resample_trace and not self.generated:
            raise ParameterError("resample_trace=True is invalid for a trace file: only generated traces resample")
        self._evaluators: dict[int, Evaluator] = {}
        self._refs: dict[int, dict[str, float]] = {}
        self._context: dict[int, np.ndarray] = {}
        self.evaluator = self._evaluator(p.trace_seed)
        self.trace = self.evaluator.trace
        self.reference_metrics = self._refs[p.trace_seed]
        self.units_per_step = len(self.trace)  # requests simulated per evaluation (bench: requests/s)
        self.bus_bound_ns = self.device.data_bus_bound_cycles(len(self.trace)) * self.device.tck_ns
        self.sequential = p.form == "sequential"
        self.max_episode_steps = p.horizon if self.sequential else 1
        self.action_space = spaces.Discrete(8) if self.sequential else spaces.MultiDiscrete(NVEC)
        if obs_mode == "archgym3":
            self.observation_space = spaces.Box(0.0, OBS_HIGH, (3,), np.float32)
        else:
            self.observation_space = spaces.Box(0.0, OBS_HIGH, (SEQ_DIM if self.sequential else SHARED_DIM,),
                                                np.float32)
        self._last_state: DramState | None = None

    # -- traces and the cost model ---------------------------------------------------------------------
    def _evaluator(self, seed: int) -> Evaluator:
        ev = self._evaluators.get(seed)
        if ev is None:
            p = self.params
            trace = as_trace(p.trace, n_requests=p.n_requests, seed=int(seed), write_fraction=p.write_fraction)
            ev = Evaluator(trace, self.device, cache=p.cache)
            if len(self._evaluators) >= MAX_TRACE_CACHE:  # resampled traces: keep memory bounded
                old = next(iter(self._evaluators))
                for table in (self._evaluators, self._refs, self._context):
                    table.pop(old, None)
            self._evaluators[seed] = ev
            self._refs[seed] = {k: float(v[0]) for k, v in ev.metrics(REFERENCE_CONFIG[None]).items()}
            self._context[seed] = context_features(trace, ev.dec, self.device)
        return ev

    def _ref(self, seed: int) -> dict[str, float]:
        if seed not in self._refs:  # evicted resampled trace: regenerate it (deterministic in the seed)
            self._evaluator(seed)
        return self._refs[seed]

    def _ctx(self, seed: int) -> np.ndarray:
        if seed not in self._context:
            self._evaluator(seed)
        return self._context[seed]

    def evaluate(self, actions: np.ndarray, seed: int | None = None) -> dict[str, np.ndarray]:
        """Metrics of configurations ``actions[B, 10]`` on the preset's trace (or the trace of ``seed``)."""
        return self._evaluator(self.params.trace_seed if seed is None else seed).metrics(actions)

    def objective(self, metrics: dict[str, np.ndarray], seed: int | None = None) -> np.ndarray:
        ref = self._ref(self.params.trace_seed if seed is None else seed)
        return objective_values(metrics, self.params.objective, ref)

    def reward_of(self, metrics: dict[str, np.ndarray], seed: int | None = None) -> np.ndarray:
        """The reward of evaluated configurations under ``reward_mode`` (spec §2.10)."""
        p = self.params
        seed = p.trace_seed if seed is None else seed
        T = np.asarray(metrics["total_time_ns"], dtype=np.float64)
        P_w = np.asarray(metrics["avg_power_mw"], dtype=np.float64) / 1000.0
        mode = p.reward_mode
        if mode == "normalized":
            J = self.objective(metrics, seed)
            ref = self._ref(seed)
            J_ref = objective_values({k: np.array([v]) for k, v in ref.items()}, p.objective, ref)[0]
            return np.clip(1.0 - J / J_ref, -1.0, 1.0)
        if mode == "efficiency":
            bound = self.device.data_bus_bound_cycles(len(self._evaluator(seed).trace)) * self.device.tck_ns
            return bound / T
        L = T * p.latency_scale
        if mode == "target_bounded":
            lat = 1.0 - np.minimum(1.0, np.abs(L - p.target_latency) / p.target_latency)
            pow_ = 1.0 - np.minimum(1.0, np.abs(P_w - p.target_power) / p.target_power)
            return {"latency": lat, "power": pow_}.get(p.objective, lat * pow_)
        with np.errstate(divide="ignore"):
            lat = np.minimum(p.reward_cap, p.target_latency / np.abs(L - p.target_latency))
            pow_ = np.minimum(p.reward_cap, p.target_power / np.abs(P_w - p.target_power))
        if mode == "archgym_latency":
            return lat
        if mode == "archgym_power":
            return pow_
        if p.reward_scaling:
            lat, pow_ = lat / 20.0, pow_ / 350.0
        return np.minimum(p.reward_cap, lat * pow_)

    # -- transitions ---------------------------------------------------------------------------------
    def init(self, batch: int, rng: np.random.Generator) -> DramState:
        p = self.params
        if p.resample_trace:
            seeds = rng.integers(0, 2**31 - 1, size=batch).astype(np.int64)
        else:
            seeds = np.full(batch, p.trace_seed, dtype=np.int64)
        if self.sequential and p.start == "random":
            knobs = np.stack([rng.integers(0, k, size=batch) for k in NVEC], axis=1).astype(np.int64)
        else:
            knobs = np.zeros((batch, N_KNOBS), dtype=np.int64)
        value = np.zeros(batch)
        if self.sequential and p.simulate_every_step:
            for s in np.unique(seeds):
                rows = seeds == s
                value[rows] = self.reward_of(self.evaluate(knobs[rows], int(s)), int(s))
        state = DramState(knobs=knobs, t=np.zeros(batch, dtype=np.int64), last=np.zeros((batch, 5)),
                          value=value, episode_objective=np.full(batch, np.nan), trace_seed=seeds)
        self._last_state = state
        return state

    def reset_rows(self, state: DramState, rows: np.ndarray, rng: np.random.Generator) -> None:
        """Autoreset: fresh rows, but ``episode_objective`` keeps the first finished episode of each row."""
        keep = state.episode_objective.copy()
        fresh = DramState(*(np.array(f) for f in self.init(int(rows.sum()), rng)))
        for name, value in zip(state._fields, fresh, strict=True):
            getattr(state, name)[rows] = value
        state.episode_objective[:] = keep
        self._last_state = state

    def check_actions(self, actions: Any) -> np.ndarray:
        a = np.asarray(actions, dtype=np.float64)
        if np.isnan(a).any():
            raise ValueError(f"DramController: action contains NaN: {actions!r}")
        a = np.rint(a).astype(np.int64)
        if self.sequential:
            if a.ndim == 2 and a.shape[1] == 1:
                a = a[:, 0]
            if a.ndim != 1:
                raise ValueError(f"DramController (sequential): expected one index per env, got shape {a.shape}")
            return np.clip(a, 0, 7)
        if a.ndim != 2 or a.shape[1] != N_KNOBS:
            raise ValueError(f"DramController: expected actions of shape [batch, 10], got {a.shape}")
        return np.clip(a, 0, NVEC - 1)

    def step(self, state: DramState, actions: np.ndarray, active: np.ndarray,
             rng: np.random.Generator) -> Transition:
        p = self.params
        B = state.t.shape[0]
        reward = np.zeros(B)
        terminated = np.zeros(B, dtype=np.bool_)
        evaluate_rows = np.zeros(B, dtype=np.bool_)
        if self.sequential:
            k = state.t % N_KNOBS
            idx = np.minimum(actions, NVEC[k] - 1)  # indices >= n_k are clipped (masked when masks are used)
            rows = np.flatnonzero(active)
            state.knobs[rows, k[rows]] = idx[rows]
            state.t[active] += 1
            terminated[:] = active & (state.t >= p.horizon)
            evaluate_rows[:] = active & (terminated | p.simulate_every_step)
        else:
            state.knobs[active] = actions[active]
            state.t[active] += 1
            terminated[:] = active
            evaluate_rows[:] = active
        objective = np.zeros(B)
        for s in np.unique(state.trace_seed[evaluate_rows]):
            rows = evaluate_rows & (state.trace_seed == s)
            m = self.evaluate(state.knobs[rows], int(s))
            r = self.reward_of(m, int(s))
            J = self.objective(m, int(s))
            if self.sequential and p.simulate_every_step:
                reward[rows] = r - state.value[rows]
            else:
                reward[rows] = r
            state.value[rows] = r
            objective[rows] = J
            for j, name in enumerate(OBS_METRICS):
                state.last[rows, j] = m[name]
        first = terminated & np.isnan(state.episode_objective)
        state.episode_objective[first] = objective[first]
        # info: the last evaluation of each env (zeros before the first); ``evaluated`` marks this step's
        metrics = {name: state.last[:, j].copy() for j, name in enumerate(OBS_METRICS)}
        seen = state.last[:, 0] > 0
        if (seen & ~evaluate_rows).any():
            for s in np.unique(state.trace_seed[seen & ~evaluate_rows]):
                rows = seen & ~evaluate_rows & (state.trace_seed == s)
                objective[rows] = self.objective({k: v[rows] for k, v in metrics.items()}, int(s))
        info = {"metrics": metrics, "objective": objective, "config": state.knobs.copy(),
                "evaluated": evaluate_rows.copy()}
        return Transition(reward, terminated, info)

    def observe(self, state: DramState) -> np.ndarray:
        if self.obs_mode == "archgym3":
            out = np.stack([state.last[:, 1] / 1000.0, state.last[:, 2] / 1000.0,
                            state.last[:, 0] * self.params.latency_scale], axis=1)
            return np.clip(out, 0.0, OBS_HIGH).astype(np.float32)
        return self._flat(state, self.sequential)

    def _flat(self, state: DramState, sequential: bool) -> np.ndarray:
        B = state.t.shape[0]
        out = np.zeros((B, SEQ_DIM if sequential else SHARED_DIM))
        for s in np.unique(state.trace_seed):
            rows = state.trace_seed == s
            ref = self._ref(int(s))
            out[rows, 0:5] = state.last[rows] / np.array([ref[m] for m in OBS_METRICS])
            out[rows, 15:23] = self._ctx(int(s))
        out[:, 5:15] = state.knobs / (NVEC - 1)
        if sequential:
            k = np.minimum(state.t, self.params.horizon - 1) % N_KNOBS
            out[np.arange(B), SHARED_DIM + k] = 1.0
            out[:, SHARED_DIM + N_KNOBS] = state.t / self.params.horizon
        return np.clip(out, 0.0, OBS_HIGH).astype(np.float32)

    def shared_observation(self, state: DramState) -> np.ndarray:
        """The 23-d shared vector (PettingZoo ``state()``; the centralised critic's input)."""
        return self._flat(state, False)

    def action_mask(self, state: DramState) -> np.ndarray | None:
        if not self.sequential:
            return None
        k = np.minimum(state.t, self.params.horizon - 1) % N_KNOBS
        return (np.arange(8)[None, :] < NVEC[k][:, None]).astype(np.int8)

    def episode_cost(self, rewards: np.ndarray) -> np.ndarray:
        """J of the final configuration of each episode (ns, mW, µJ·µs or × reference; lower is better)."""
        if self._last_state is None or self._last_state.t.shape[0] != rewards.shape[1]:
            raise RuntimeError("episode_cost needs the batch that produced the rewards")
        return self._last_state.episode_objective.copy()

    # -- views ---------------------------------------------------------------------------------------
    def snapshot(self, state: DramState, index: int) -> dict[str, Any]:
        return {"knobs": state.knobs[index].copy(), "t": int(state.t[index]), "last": state.last[index].copy()}

    def render(self, history: list[Any], mode: str) -> Any:
        from opsrl.envs.dram.render import render

        return render(self, history, mode)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["device"] = self.device.describe()
        d["trace"] = {"name": canonical_name(self.params.trace) if self.generated else self.params.trace,
                      "requests": len(self.trace), "writes": self.trace.n_writes, "key": self.evaluator.key}
        d["knobs"] = {name: list(values) for name, values in KNOBS}
        d["agents"] = list(KNOB_NAMES)
        d["design_space"] = int(np.prod(NVEC))
        d["reference_config_metrics"] = self.reference_metrics
        d["data_bus_bound_ns"] = self.bus_bound_ns
        return d


def _is_alias(name: str) -> bool:
    try:
        canonical_name(name)
        return True
    except ParameterError:
        return False
