"""HDPO for portfolios (spec ``portfolio.md`` §4, §6): the family's adapter of :mod:`opsrl.algos.hdpo`.

Prices are exogenous, so the realised reward of *any* weight sequence can be computed on a recorded price
path. HDPO here is the Jiang-style direct deterministic policy gradient: a network maps each date's price
windows and current holdings to simplex weights (softmax), and its parameters follow the gradient of the
episode objective back-propagated through the differentiable twin of the backtest
(:mod:`opsrl.envs.portfolio.torch_dynamics`: softmax weights, linear or exact cost shrinkage μ, value,
drift) over many fixed windows of history.

* **Split, never the test block.** The train block of the env is cut in two: the last
  ``validation_portion`` of all dates before the test block becomes the validation block (unless the env
  already sets ``validation_portion``). The test block is the env's own (``test_portion`` /
  ``split_date``), identical to the baselines'. No array built here contains a test-block relative, and no
  observation a date after the last validation date (asserted).
* **Scenarios.** Train: ``n_train`` start dates drawn uniformly (``data_seed``) over the train block by
  the env's own ``init`` (windows of ``horizon`` days whose every reward date is a train date, the env's
  start holdings: all cash by default, so the entry cost is paid). Dev: every start date of the validation
  block that leaves a full window (at most ``n_dev``, evenly spaced).
* **Objective.** ``log_return`` (default for ``reward="log_return"``): minimise −P·mean_t(ρ_t − λ·Σ|Δw|),
  the env's ``episode_cost`` (minus the annualised log return net of costs). ``sharpe`` (default for the
  Sharpe-type rewards): minimise minus the window's Sharpe ratio √P·mean(ρ)/(std_pop(ρ) + 1e-7). Dev cost =
  the same objective on the validation windows, averaged; early stopping keeps the best-dev weights.
* **Policy.** :mod:`opsrl.policies.portfolio`: ``eiie`` (default; one MLP shared by the assets, Jiang's
  EIIE) or ``mlp`` (one MLP on the flat observation); both start as equal weight over the risky assets.
* **Yardstick.** Equal weight (1/N risky, rebalanced every day) on the dev windows, through the same twin:
  plotted and reported, no gap (costs near zero make a gap in % meaningless).

Example::

    opsrl train hdpo --env opsrl/Portfolio-v0 --preset synthetic_gbm_10 --seed 0 --budget-seconds 120 \\
        --out runs/hdpo_gbm
    opsrl eval --env opsrl/Portfolio-v0 --preset synthetic_gbm_10 --policy runs/hdpo_gbm \\
        --set split=test --set start=first --set horizon=null --episodes 1     # the test backtest
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import torch

from opsrl.algos.hdpo import HDPOAdapter, HDPOConfig, Yardstick
from opsrl.envs.portfolio import dynamics as K_
from opsrl.envs.portfolio import torch_dynamics as TD
from opsrl.envs.portfolio.env import Portfolio
from opsrl.policies.portfolio import KINDS, build_module, save_policy
from opsrl.registration import make_problem

OBJECTIVES = ("auto", "log_return", "sharpe")
DEFAULT_HIDDEN = {"eiie": [32, 32], "mlp": [64, 64]}
SHARPE_EPS = 1e-7


@dataclasses.dataclass
class PortfolioHDPOConfig(HDPOConfig):
    """Options of HDPO on ``opsrl/Portfolio-v0`` (``opsrl train hdpo --option KEY=VALUE``)."""

    policy: str = "eiie"
    """``eiie`` (one MLP shared by the assets, on each asset's window and weight) or ``mlp`` (one MLP on the
    flat observation)."""
    hidden: tuple[int, ...] | None = None
    """Hidden widths (ELU); default 32-32 (eiie) or 64-64 (mlp)."""
    objective: str = "auto"
    """``log_return`` (annualised log return net of costs), ``sharpe`` (per-window Sharpe ratio of the log
    returns) or ``auto`` (log_return for ``reward="log_return"``, else sharpe)."""
    validation_portion: float = 0.1
    """Share of all dates, just before the test block, held out as the validation block for early stopping
    (used when the env's own ``validation_portion`` is 0)."""
    horizon: int | None = None
    """Days per training and dev window; default the env's ``horizon`` (128)."""
    lr: float | None = None
    """Adam learning rate; default 3e-4 (Jiang et al.'s 2.8e-4; 3e-3 overfits the train block within an epoch)."""
    batch: int = 64
    """Windows per gradient step."""
    n_train: int = 2048
    """Training windows (random start dates in the train block)."""
    n_dev: int = 256
    """At most this many dev windows (evenly spaced start dates in the validation block)."""
    max_epochs: int = 200
    patience: int = 10
    """Early stopping: epochs without a dev improvement (an epoch = n_train / batch steps)."""
    grad_clip: float | None = None
    """Gradient-norm clipping; default 1.0."""
    dtype: str = "float32"
    """float32 (default: about twice as fast as float64 here) or float64 (the twin then matches the env's
    kernel to rounding)."""

    POSITIVE_INTS: ClassVar[tuple[str, ...]] = HDPOConfig.POSITIVE_INTS

    def validate(self) -> None:
        if self.policy not in KINDS:
            raise ValueError(f"policy={self.policy!r} is invalid: must be one of {KINDS}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective={self.objective!r} is invalid: must be one of {OBJECTIVES}")
        super().validate()
        if not (isinstance(self.validation_portion, (int, float)) and 0 < self.validation_portion < 0.9):
            raise ValueError(f"validation_portion={self.validation_portion!r} is invalid: must be in (0, 0.9)")
        if self.horizon is not None and not (isinstance(self.horizon, int) and self.horizon >= 2):
            raise ValueError(f"horizon={self.horizon!r} is invalid: must be an integer >= 2 or None")
        if self.hidden is not None:
            self.hidden = (self.hidden,) if isinstance(self.hidden, int) else tuple(int(h) for h in self.hidden)
            if not all(h >= 1 for h in self.hidden):
                raise ValueError(f"hidden={self.hidden!r} is invalid: widths must be >= 1")


@dataclasses.dataclass
class Windows:
    """A fixed set of backtest windows: start decision rows ``d0 [n]`` and start holdings ``w0 [n, N+1]``."""

    d0: np.ndarray
    w0: torch.Tensor
    horizon: int

    def __len__(self) -> int:
        return len(self.d0)


class PortfolioHDPO(HDPOAdapter):
    """The portfolio adapter (module docstring)."""

    config_type = PortfolioHDPOConfig
    cost_label = "objective (lower is better)"

    def __init__(self, env_id: str, preset: str | None, overrides: dict[str, Any], cfg: PortfolioHDPOConfig) -> None:
        base = make_problem(env_id, preset, **overrides)
        if not isinstance(base, Portfolio):
            raise ValueError(f"hdpo (portfolio adapter) needs opsrl/Portfolio-v0, not {env_id}")
        p = base.params
        if base.obs_mode not in ("flat", "image"):
            raise ValueError(f"obs_mode={base.obs_mode!r} is invalid for hdpo: use 'flat' or 'image'")
        self.cfg, self.preset = cfg, preset
        vp = p.validation_portion if p.validation_portion > 0 else float(cfg.validation_portion)
        H = int(cfg.horizon or p.horizon or 128)
        common = {**overrides, "validation_portion": vp, "horizon": H, "start": "random"}
        try:
            train = make_problem(env_id, preset, **{**common, "split": "train"})
            val = make_problem(
                env_id,
                preset,
                **{**common, "split": "validation", "horizon": min(H, _val_decisions(env_id, preset, common))},
            )
        except ValueError as exc:
            raise ValueError(
                f"hdpo: cannot cut a validation block (validation_portion={vp}) with {H}-day windows "
                f"from this market: {exc}"
            ) from exc
        self.problem, self.val_problem = train, val
        self.objective = (
            cfg.objective if cfg.objective != "auto" else ("log_return" if p.reward == "log_return" else "sharpe")
        )
        self.dtype = cfg.torch_dtype
        self.cost_rate, self.cost_model = p.cost_rate, p.cost_model
        self.penalty, self.periods = p.turnover_penalty, p.periods_per_year
        test_lo = train.splits["test"].lo  # the first test decision row: its reward is the first test date
        last = val.split.hi  # the last decision row used (its reward date is the last validation date)
        assert last < test_lo and val.split.lo > train.split.hi, "hdpo: the validation block must precede the test"

        # Price windows of every decision row up to the last validation decision, computed by the env's own
        # kernel (bit-identical to its observations); relatives up to the last validation reward date.
        F, W, N = train.n_features, p.window, train.n_assets
        self.t_lo = train.split.lo
        table = np.empty((last - self.t_lo + 1, F * W * N), dtype=np.float32)
        K_.build_obs_table(train.prices, W, F, self.t_lo, table)
        self.rel = torch.as_tensor(train.rel[: last + 2], dtype=self.dtype)
        # ln X statistics of the train block only (normalisation buffers of the network)
        z = np.log(table[: train.split.hi - self.t_lo + 1].reshape(-1, F, W, N).astype(np.float64))
        std = z.std(axis=(0, 3))
        self.feat_mean, self.feat_std = z.mean(axis=(0, 3)), np.where(std > 1e-12, std, 1.0)

        rng = np.random.default_rng(np.random.SeedSequence([cfg.data_seed, 0]))
        state = train.init(cfg.n_train, rng)
        self.train_set = Windows(state.d0, torch.as_tensor(state.w, dtype=self.dtype), H)
        starts = np.arange(val.start_rows[0], val.start_rows[1] + 1)
        if len(starts) > cfg.n_dev:
            starts = starts[np.unique(np.round(np.linspace(0, len(starts) - 1, cfg.n_dev)).astype(np.int64))]
        w0 = val.init(len(starts), np.random.default_rng(0)).w  # start holdings only (start dates set above)
        self.dev_set = Windows(starts, torch.as_tensor(w0, dtype=self.dtype), val.episode_length)
        assert int(self.train_set.d0.max()) + H - 1 <= train.split.hi
        assert int(self.dev_set.d0.max()) + self.dev_set.horizon - 1 <= last

        # The network's standardised inputs of every decision row, computed once by the network's own
        # feature map (its buffers hold the fixed train statistics): the rollout then only gathers rows.
        featurise = build_module(
            {"kind": cfg.policy, "hidden": [1], "n_assets": N, "n_features": F, "window": W},
            self.feat_mean,
            self.feat_std,
        ).to(self.dtype)
        with torch.no_grad():
            self.features = torch.cat(
                [
                    featurise.features(torch.as_tensor(table[i : i + 512]).to(self.dtype))
                    for i in range(0, len(table), 512)
                ]
            )

        hidden = list(cfg.hidden) if cfg.hidden is not None else DEFAULT_HIDDEN[cfg.policy]
        self.architecture = {"kind": cfg.policy, "hidden": hidden, "n_assets": N, "n_features": F, "window": W}
        self.lr = float(cfg.lr if cfg.lr is not None else 3e-4)
        self.clip = float(cfg.grad_clip if cfg.grad_clip is not None else 1.0)

    # -- the twin ------------------------------------------------------------------------------------------
    def rollout(
        self, module: torch.nn.Module, data: Windows, idx: np.ndarray | slice
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Unroll ``module`` over the windows ``idx`` of ``data``: (ρ [B, H], turnover base Σ_{i≥1}|w − w′| [B, H])."""
        d0 = data.d0[idx]
        rows = torch.as_tensor(d0[:, None] + np.arange(data.horizon)[None, :])
        y = self.rel[rows + 1]  # [B, H, N+1]
        held: list[torch.Tensor] = []

        def policy(w: torch.Tensor, k: int) -> torch.Tensor:
            held.append(w)
            return module.logits(self.features[rows[:, k] - self.t_lo], w)

        rho, _, targets = TD.rollout(data.w0[idx], y, policy, cost_rate=self.cost_rate, cost_model=self.cost_model)
        base = (targets[..., 1:] - torch.stack(held, dim=1)[..., 1:]).abs().sum(-1)
        return rho, base

    def costs(self, rho: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
        """The objective per window (lower is better)."""
        if self.objective == "log_return":
            return -self.periods * (rho - self.penalty * base).mean(dim=1)
        sd = rho.std(dim=1, unbiased=False)
        return -(self.periods**0.5) * rho.mean(dim=1) / (sd + SHARPE_EPS) + self.penalty * base.mean(dim=1)

    # -- the adapter ---------------------------------------------------------------------------------------
    def build_module(self) -> torch.nn.Module:
        return build_module(self.architecture, self.feat_mean, self.feat_std).to(self.dtype)

    def train_loss(self, module: torch.nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, float]:
        cost = self.costs(*self.rollout(module, self.train_set, idx.numpy()))
        loss = cost.mean()
        return loss, float(loss.detach())

    def evaluate(self, module: torch.nn.Module, data: Windows, chunk: int = 512) -> np.ndarray:
        out = []
        module.eval()
        with torch.no_grad():
            for start in range(0, len(data), chunk):
                out.append(self.costs(*self.rollout(module, data, slice(start, start + chunk))).double().numpy())
        return np.concatenate(out)

    def save_policy(self, out: str, module: torch.nn.Module, meta: dict[str, Any]) -> None:
        save_policy(
            out,
            module,
            self.architecture,
            {
                **meta,
                "objective": self.objective,
                "train_block": self._block(self.problem),
                "validation_block": self._block(self.val_problem),
            },
        )

    def reference(self) -> Yardstick:
        """Equal weight over the risky assets, rebalanced daily, on the dev windows (through the twin)."""
        data = self.dev_set
        N1 = self.problem.n_assets + 1
        ew = torch.full((N1,), 1.0 / (N1 - 1), dtype=self.dtype)
        ew[0] = 0.0
        rows = torch.as_tensor(data.d0[:, None] + np.arange(data.horizon)[None, :])
        with torch.no_grad():
            rho, _, targets = TD.rollout(
                data.w0,
                self.rel[rows + 1],
                lambda w, k: ew.expand_as(w),
                cost_rate=self.cost_rate,
                cost_model=self.cost_model,
                action_map="weights",
            )
            held = torch.cat([data.w0[:, None], _drift(targets[:, :-1], self.rel[rows[:, :-1] + 1])], dim=1)
            base = (targets[..., 1:] - held[..., 1:]).abs().sum(-1)
            value = float(self.costs(rho, base).mean())
        return Yardstick(value, "equal weight (1/N risky, daily rebalancing) on the dev windows", gap=False)

    def summary(self) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "horizon": self.train_set.horizon,
            "n_dev": len(self.dev_set),
            "train_block": self._block(self.problem),
            "validation_block": self._block(self.val_problem),
        }

    def title(self) -> str:
        preset = self.preset or self.problem.params.default_preset
        return f"HDPO ({self.architecture['kind']}, {self.objective}) on {preset}"

    @staticmethod
    def _block(problem: Portfolio) -> str:
        return f"{problem.split.first_date} → {problem.split.last_date}"


def _drift(targets: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Holdings after the market moves: y ⊙ w / (y · w)."""
    return y * targets / (y * targets).sum(-1, keepdim=True)


def _val_decisions(env_id: str, preset: str | None, common: dict[str, Any]) -> int:
    """Decision dates of the validation block (to cap the dev window length)."""
    probe = make_problem(env_id, preset, **{**common, "split": "validation", "horizon": 1})
    return probe.split.n_decisions


__all__ = ["PortfolioHDPO", "PortfolioHDPOConfig", "Windows"]
