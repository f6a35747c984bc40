"""The portfolio problem: long-only rebalancing over cash + N assets with proportional costs, batched.

## Description
At the close of each trading day the agent chooses target weights over cash (index 0) and N risky
assets, pays proportional transaction costs on the trade (the shrinkage factor μ of Jiang, Xu & Liang,
exact or linear), then earns the next day's price relatives; holdings drift with prices until the next
decision. The agent is a price taker (no market impact), so the only controllable state is the weight
vector. Episodes start at random dates inside one block of a time split (train / validation / test,
disjoint by reward date) or, with ``start="first"``, at the block's first date (the deterministic
backtest). Markets: synthetic GBM or regime-switching factor models (default), skfolio's bundled daily
prices (``opsrl[data]``) or the user's CSV (``prices_csv=PATH``).
Spec: ``portfolio.md``; env card: ``envs/portfolio.md``.

## Action space
``Box(-10, 10, (N+1,), float32)`` logits mapped by softmax(a/τ) (default). Logits outside the box are not
clipped: softmax is defined for every finite vector (the baselines use this to send exact zeros).
``action_map="projection"``: ``Box(0, 1, (N+1,))`` mapped by the Euclidean projection onto the simplex
(any finite vector is projected). ``action_map="weights"``: the weights themselves, which must satisfy
w ≥ 0 and |Σw − 1| ≤ 1e-6 (then renormalised), else ``ValueError``. NaN or inf raises ``ValueError``.

## Observation space
Price windows X[f, k, i] = v_{i,f}(d − W + 1 + k) / v_{i,close}(d) over the last W dates ≤ the current date
d, features in the order close, high, low, open (F of them), with the current drifted holdings w′:

* ``obs_mode="flat"`` (default): ``Box(0, inf, (F·W·N + N + 1,), float32)``, X flattened in (f, k, i) order,
  then w′;
* ``"image"``: ``Dict(prices=Box(0, inf, (F, W, N)), weights=Box(0, 1, (N+1,)))``;
* ``"image_huang"``: ``Box(0, inf, (F, W + 1, N))``, the last row w′_{1:N} in every channel.

## Rewards
``reward="log_return"`` (default): ρ = ln μ + ln(y·w), the step's log growth of wealth net of costs.
``"dsr"``: Moody & Saffell's differential Sharpe ratio of the simple net returns (η = ``dsr_eta``; moments
warm-started from the equal-weight portfolio's returns over the observation window; 0 while B − A² ≤ 1e-12;
clipped at ±``dsr_clip``). ``"avg_sharpe"``: SR_t / H with SR_t = √P·mean(ρ_1..ρ_t)/(std_pop + 1e-7), 0 until
two returns exist (Huang; ``huang_compat`` counts his extra zero return at reset). ``"terminal_sharpe"``:
SR_H at the last step, else 0. All minus ``turnover_penalty``·Σ_{i≥1}|w_i − w′_i|.

## Starting state
Wealth 1, holdings all cash (``init_weights="uniform"``: 1/(N+1) each), start date uniform over the split's
decision dates that leave H steps inside the split (``start="random"``) or the first one.

## Episode end
No termination; truncation after H = ``horizon`` steps (``horizon=None``: at the end of the split).

## Info
``date`` (the date of the prices that closed the step: the reward's date), ``log_return`` ρ, ``mu``,
``turnover`` (one-way, ½Σ_{i≥0}|w_i − w′_i|, cash included), ``entropy`` of the target weights, ``wealth``,
``weights`` (the target w), ``costs`` (``transaction``: wealth paid in costs, V(1 − μ)).

## Version history
* v0: initial release.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces

from opsrl.core.errors import ParameterError
from opsrl.core.problem import Problem, Transition
from opsrl.envs.portfolio import dynamics as K_
from opsrl.envs.portfolio.data import Market, Split, build_market, split_rows
from opsrl.envs.portfolio.params import ACTION_MAPS, COST_MODELS, REWARDS, PortfolioParams

LOGIT_BOUND = 10.0
ZERO_LOGIT_WEIGHT = 1e-300  # weights below this become exactly representable logits ln(1e-300) ≈ −690.8
# Batches of at least this many envs read the price windows from a per-split table of precomputed windows
# (a copy instead of W·F·N multiplications per env); single envs and small batches compute them directly.
OBS_TABLE_MIN_BATCH = 256
OBS_TABLE_MAX_BYTES = 256 * 2**20


class PortfolioState(NamedTuple):
    w: np.ndarray  # float64 [B, N+1] drifted holdings w′
    wealth: np.ndarray  # float64 [B]
    t: np.ndarray  # int64 [B] steps since reset
    d: np.ndarray  # int64 [B] row of the current decision date
    acc: np.ndarray  # float64 [B, 4] reward accumulators
    d0: np.ndarray  # int64 [B] row of the episode's first decision


class Portfolio(Problem):
    params_type = PortfolioParams
    obs_modes = ("flat", "image", "image_huang")

    def __init__(self, params: PortfolioParams, obs_mode: str = "flat") -> None:
        super().__init__(params, obs_mode)
        p = params
        self.market: Market = build_market(p)
        m = self.market
        self.n_assets = N = m.n_assets
        self.n_features = F = min(p.features, m.n_features)
        splits = split_rows(m, p)
        if p.split not in splits:
            raise ParameterError(f"split={p.split!r} is invalid: this market has only {sorted(splits)} blocks")
        self.splits: dict[str, Split] = splits
        self.split: Split = splits[p.split]
        sp = self.split
        H = p.horizon if p.horizon is not None else sp.n_decisions
        if H > sp.n_decisions:
            raise ParameterError(f"horizon={p.horizon!r} is invalid: the {p.split} block has only "
                                 f"{sp.n_decisions} decision dates ({sp.first_date} → {sp.last_date})")
        self.episode_length = self.max_episode_steps = int(H)
        self.start_rows = (sp.lo, sp.lo if p.start == "first" else sp.hi - H + 1)
        self.rel = np.ascontiguousarray(m.relatives(p.risk_free))
        self.prices = np.ascontiguousarray(m.prices[:, :F, :])
        self.cfg = np.zeros(6)
        self.cfg[[K_.C_RATE, K_.TAU, K_.ETA, K_.CLIP, K_.LAMBDA, K_.PERIODS]] = (
            p.cost_rate, p.temperature, p.dsr_eta, p.dsr_clip, p.turnover_penalty, p.periods_per_year)
        self.icfg = np.zeros(6, dtype=np.int64)
        self.icfg[[K_.I_ACTION, K_.I_COST, K_.I_REWARD, K_.I_HUANG, K_.I_EPLEN, K_.I_DHI]] = (
            ACTION_MAPS.index(p.action_map), COST_MODELS.index(p.cost_model), REWARDS.index(p.reward),
            int(p.huang_compat), H, sp.hi)
        self._width = K_.output_width(N)
        self._work = np.empty((2, 0, N + 1))  # logits and their exps / the projection's sort buffer
        self._logits, self._exps = self._work[0], self._work[1]
        self._softmax = p.action_map == "softmax"
        self._obs_inv = np.empty((0, N))  # per-env 1/close scratch of the observation kernel
        self._obs_table: np.ndarray | None = None
        self._no_table = np.empty((0, self.n_features * p.window * N), dtype=np.float32)
        W = p.window
        if p.action_map == "softmax":
            self.action_space = spaces.Box(-LOGIT_BOUND, LOGIT_BOUND, (N + 1,), np.float32)
        else:
            self.action_space = spaces.Box(0.0, 1.0, (N + 1,), np.float32)
        weights = spaces.Box(0.0, 1.0, (N + 1,), np.float32)
        if obs_mode == "flat":
            self._layout, self._obs_dim = K_.OBS_FLAT, F * W * N + N + 1
            self.observation_space = spaces.Box(0.0, np.inf, (self._obs_dim,), np.float32)
        elif obs_mode == "image":
            self._layout, self._obs_dim = K_.OBS_IMAGE, F * W * N
            self.observation_space = spaces.Dict({"prices": spaces.Box(0.0, np.inf, (F, W, N), np.float32),
                                                  "weights": weights})
        else:
            self._layout, self._obs_dim = K_.OBS_HUANG, F * (W + 1) * N
            self.observation_space = spaces.Box(0.0, np.inf, (F, W + 1, N), np.float32)

    # -- transitions ----------------------------------------------------------------------------------
    def init(self, batch: int, rng: np.random.Generator) -> PortfolioState:
        p, N = self.params, self.n_assets
        lo, hi = self.start_rows
        d0 = np.full(batch, lo, dtype=np.int64) if lo == hi else rng.integers(lo, hi + 1, size=batch)
        w = np.zeros((batch, N + 1))
        if p.init_weights == "cash":
            w[:, 0] = 1.0
        else:
            w[:] = 1.0 / (N + 1)
        acc = np.zeros((batch, 4))
        if p.reward == "dsr":  # warm start: equal-weight simple returns over the observation window
            rows = d0[:, None] + np.arange(2 - p.window, 1)[None, :]
            ret = self.rel[rows, 1:].mean(axis=2) - 1.0
            acc[:, K_.A_DSR] = ret.mean(axis=1)
            acc[:, K_.B_DSR] = (ret**2).mean(axis=1)
        return PortfolioState(w, np.ones(batch), np.zeros(batch, dtype=np.int64), d0.copy(), acc, d0)

    def step(self, state: PortfolioState, actions: np.ndarray, active: np.ndarray,
             rng: np.random.Generator) -> Transition:
        B, N1 = state.w.shape
        if actions.shape != (B, N1):
            if actions.size != B * N1:
                raise ValueError(f"Portfolio: actions of shape {actions.shape} do not fit a batch of {B} envs "
                                 f"with {N1} weights (cash + {N1 - 1} assets)")
            actions = actions.reshape(B, N1)
        out = np.empty((B, self._width))  # fresh: the info arrays are views into it
        if self._work.shape[1] != B:
            self._work = np.empty((2, B, N1))
            self._logits, self._exps = self._work[0], self._work[1]
        status = K_.prepare(actions, active, state.d, self.cfg, self.icfg, self._work)
        if status == K_.OK:  # the same three calls as K_.step_batch, without its per-call lookups
            if self._softmax:
                np.exp(self._logits, out=self._exps)
            (K_.step_parallel if B >= K_.PARALLEL_MIN_BATCH else K_.step_serial)(
                state.w, state.wealth, state.t, state.d, state.acc, actions, active, self.rel, self.cfg, self.icfg,
                out, self._work)
        if status == K_.NAN_ACTION:
            raise ValueError("Portfolio: action contains NaN or inf")
        if status == K_.BAD_WEIGHTS:
            raise ValueError("Portfolio: action_map='weights' needs weights >= 0 summing to 1 (within 1e-6)")
        if status == K_.PAST_END:
            raise RuntimeError(f"Portfolio: step past the end of the {self.params.split} block; call reset()")
        info = {
            "date": self.market.dates[state.d],
            "log_return": out[:, K_.RHO],
            "mu": out[:, K_.MU],
            "turnover": out[:, K_.TURNOVER],
            "entropy": out[:, K_.ENTROPY],
            "wealth": out[:, K_.WEALTH],
            "weights": out[:, K_.FIRST_W:],
            "costs": {"transaction": out[:, K_.TCOST]},
        }
        return Transition(out[:, K_.REWARD], np.zeros(B, dtype=np.bool_), info)

    def check_actions(self, actions: Any) -> np.ndarray:
        """Actions as float64; NaN/inf and invalid weights are detected by the kernel before it moves."""
        return np.asarray(actions, dtype=np.float64)

    # -- observations ---------------------------------------------------------------------------------
    def observe(self, state: PortfolioState) -> Any:
        B = state.d.shape[0]
        F, W, N = self.n_features, self.params.window, self.n_assets
        out = np.empty((B, self._obs_dim), dtype=np.float32)  # fresh: callers may keep earlier observations
        if self._obs_inv.shape[0] < B:
            self._obs_inv = np.empty((B, N))
        table = self._obs_table if B >= OBS_TABLE_MIN_BATCH else None
        if table is None and B >= OBS_TABLE_MIN_BATCH and self._layout != K_.OBS_HUANG:
            table = self._build_obs_table()
        if table is None:
            table = self._no_table
        (K_.observe_parallel if B >= K_.OBS_PARALLEL_MIN_BATCH else K_.observe_serial)(
            self.prices, state.d, state.w, W, F, self._layout, out, self._obs_inv, table, self.split.lo)
        if self.obs_mode == "image":
            return {"prices": out.reshape(B, F, W, N), "weights": state.w.astype(np.float32)}
        if self.obs_mode == "image_huang":
            return out.reshape(B, F, W + 1, N)
        return out

    def _build_obs_table(self) -> np.ndarray | None:
        """Price windows of every decision row of the split, computed once (spec §8: "normalised windows
        precomputed once per date"): a batch's observation is then a copy per env. Skipped (None) above
        ``OBS_TABLE_MAX_BYTES``; built only for batches of ``OBS_TABLE_MIN_BATCH`` or more envs."""
        F, W, N = self.n_features, self.params.window, self.n_assets
        rows = self.split.n_decisions + 1  # decision rows lo..hi and the final observation's row hi + 1
        if rows * F * W * N * 4 > OBS_TABLE_MAX_BYTES:
            return None
        table = np.empty((rows, F * W * N), dtype=np.float32)
        K_.build_obs_table(self.prices, W, F, self.split.lo, table)
        self._obs_table = table
        return table

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_obs_table"] = None  # tens of MB, rebuilt on demand
        # scratch: _logits/_exps are views of _work, which a pickle would turn into separate copies
        state["_work"] = np.empty((2, 0, self.n_assets + 1))
        state["_logits"], state["_exps"] = state["_work"][0], state["_work"][1]
        return state

    # -- policies' helpers ------------------------------------------------------------------------------
    def weights_to_action(self, weights: np.ndarray) -> np.ndarray:
        """The action that the env maps back to ``weights`` (rows on the simplex) under its action map.
        Softmax: τ·ln(w) with zero weights sent as ln(1e-300), i.e. a weight below 1e-300."""
        w = np.asarray(weights, dtype=np.float64)
        if self.params.action_map == "softmax":
            return self.params.temperature * np.log(np.maximum(w, ZERO_LOGIT_WEIGHT))
        return w

    def episode_cost(self, rewards: np.ndarray) -> np.ndarray:
        """The reported metric per episode from the reward trace ``[T, batch]`` (lower is better):

        * ``log_return`` — minus the annualised log return, −P·mean_t(r_t) = −(P/H)·ln V_H when
          ``turnover_penalty`` = 0 (so 0.10 means wealth shrinks at e^{−0.10} per year);
        * ``dsr`` — minus the sum of differential Sharpe ratios;
        * ``avg_sharpe`` — minus the episode average of the running Sharpe ratio;
        * ``terminal_sharpe`` — minus the Sharpe ratio of the episode's log returns.
        """
        if self.params.reward == "log_return":
            return -self.params.periods_per_year * rewards.mean(axis=0)
        return -rewards.sum(axis=0)

    # -- rendering ------------------------------------------------------------------------------------
    def snapshot(self, state: PortfolioState, index: int) -> dict[str, Any]:
        return {"date": self.market.dates[state.d[index]], "wealth": float(state.wealth[index]),
                "w": state.w[index].copy(), "t": int(state.t[index])}

    def render(self, history: list[dict[str, Any]], mode: str) -> Any:
        from opsrl.envs.portfolio.render import render_ansi, render_rgb

        if mode == "ansi":
            return render_ansi(self.market.tickers, history)
        return render_rgb(self.market.tickers, history)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        m = self.market
        out["market"] = {"source": m.source, "tickers": list(m.tickers), "n_dates": m.n_dates,
                         "first_date": str(m.dates[0]), "last_date": str(m.dates[-1]),
                         "features_used": list(("close", "high", "low", "open")[: self.n_features]),
                         "splits": {k: {"first_reward_date": str(s.first_date), "last_reward_date": str(s.last_date),
                                        "decisions": s.n_decisions} for k, s in self.splits.items()},
                         "episode_length": self.episode_length}
        return out


__all__ = ["Portfolio", "PortfolioState"]
