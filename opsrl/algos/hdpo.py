"""Hindsight Differentiable Policy Optimization (HDPO): the family-neutral training loop.

HDPO is plain stochastic gradient descent on a sample-average approximation of the expected cost, for
problems whose exogenous randomness (demand, prices) can be drawn in advance and whose dynamics have a
differentiable torch twin:

1. Draw fixed **scenario sets** once — train, dev and (where the family has one) test — with seeds that
   do not depend on the training seed, so runs with different seeds share their scenarios.
2. Each epoch shuffles the train scenarios into mini-batches. For a mini-batch, unroll the deterministic
   policy through the torch twin for the whole episode, average the cost, and back-propagate through the
   trajectory (full BPTT: no critic, no baseline, no score function). Adam; optional gradient-norm clipping.
3. Every ``dev_every`` epochs evaluate the dev set; keep the best-dev weights; stop after ``patience``
   epochs without a dev improvement, at ``max_epochs``, or when the time budget is spent. The best-dev
   weights are the policy.

What differs between families lives in an :class:`HDPOAdapter` (how to draw scenarios, roll out the twin
and compute the cost, build the policy network, save it for ``opsrl eval --policy DIR``); the loop below
(Adam, early stopping, clipping, log, learning curve, progress bar, resumable checkpoint, manifest,
summary) is shared:

* inventory networks (spec ``inventory.md`` §6.1): :mod:`opsrl.algos.hdpo_inventory`;
* portfolios (spec ``portfolio.md`` §4, §6, the Jiang-style direct policy gradient):
  :mod:`opsrl.algos.hdpo_portfolio`.

Run it from the command line::

    opsrl train hdpo --env opsrl/InventoryNetwork-v0 --preset one_store_lost_sales --seed 0 \\
        --budget-seconds 120 --out runs/hdpo_lost [--option policy=gnn --option lr=1e-3 ...]
    opsrl eval --env opsrl/InventoryNetwork-v0 --preset one_store_lost_sales --policy runs/hdpo_lost

The output directory holds ``opsrl_policy.json`` + ``policy.pt`` (the best-dev policy, loaded by the
family's loader named in the manifest), ``train_state.pt`` (everything needed to resume: current and best
weights, Adam state, counters), ``log.csv`` (one row per dev evaluation) and ``learning_curve.png``.
Interrupting the run (Ctrl-C or the budget) and re-running the same command resumes from the last
checkpoint: the epoch counter, the optimizer, the best policy and the log continue, and the shuffling order
of each epoch is a function of ``(seed, epoch)``, so a resumed run computes the same updates as an
uninterrupted one.
"""

from __future__ import annotations

import abc
import csv
import dataclasses
import math
import os
import time
from typing import Any, ClassVar

import numpy as np

# OMP_WAIT_POLICY=passive is set by opsrl/__init__.py (imported before this module): numba's idle OpenMP
# workers otherwise spin and make torch's backward pass ~10x slower here (0.8 s vs 0.06 s CPU per step).
import torch

from opsrl.algos.checkpoint import load_train_state, save_train_state
from opsrl.core.env import load_object

LOG_FILE = "log.csv"
PLOT_FILE = "learning_curve.png"
LOG_FIELDS = ["epoch", "step", "seconds", "train_cost", "dev_cost", "best_dev", "dev_gap_pct", "grad_norm", "lr"]

ADAPTERS: dict[str, str] = {
    "opsrl/InventoryNetwork-v0": "opsrl.algos.hdpo_inventory:InventoryHDPO",
    "opsrl/Portfolio-v0": "opsrl.algos.hdpo_portfolio:PortfolioHDPO",
}
"""Environment id -> its :class:`HDPOAdapter` (only families with a differentiable twin)."""


@dataclasses.dataclass
class HDPOConfig:
    """Options shared by every family (``opsrl train hdpo --option KEY=VALUE``); each adapter extends it with
    its own fields and defaults. ``None`` = the family's default, resolved by the adapter."""

    lr: float | None = None
    """Adam learning rate; default per family (and setting)."""
    batch: int = 1024
    """Mini-batch of scenarios per gradient step."""
    n_train: int = 8192
    """Training scenarios (the SAA sample)."""
    n_dev: int = 2048
    """Dev scenarios (the family may interpret it, e.g. per store)."""
    max_epochs: int = 20000
    max_steps: int | None = None
    """Stop after this many gradient steps in total (over resumptions); None: no step limit. A step budget
    makes a run's result independent of the machine's load, unlike ``budget_seconds``."""
    lr_schedule: str = "constant"
    """``constant`` (the spec's Adam without scheduler) or ``cosine``: the learning rate decays from ``lr``
    to ``lr_final`` × ``lr`` along a half cosine over ``max_steps`` (needs ``max_steps``). With a constant
    rate the dev cost stalls at the gradient noise floor (e.g. ~0.8% above the optimum on
    ``one_store_backlogged_L4_p9``); the decay removes most of that noise in the last steps."""
    lr_final: float = 0.01
    """Final learning rate of the cosine schedule, as a fraction of ``lr``."""
    dev_every: int = 1
    """Dev evaluation (and checkpoint) every this many epochs."""
    patience: int = 500
    """Early stopping: epochs without a dev improvement."""
    grad_clip: float | None = None
    """Gradient-norm clipping (None: the family's default)."""
    data_seed: int = 57
    """Seed of the train and dev scenario sets, independent of the training seed."""
    dtype: str = "float32"
    """``float32`` (fast) or ``float64``."""
    threads: int = 1
    """torch CPU threads. One is fastest for these small, overhead-bound unrolls and does not fight other
    processes for cores (2 threads on a busy 2-core machine can be 10× slower)."""
    progress: bool = True
    """Show a rich progress bar (on stderr)."""
    resume: bool = True
    """Resume from ``out/train_state.pt`` if it exists (the configuration must match)."""

    # Fields that may change between an interrupted run and its resumption (families add theirs).
    RESUMABLE: ClassVar[tuple[str, ...]] = ("max_epochs", "patience", "progress", "resume", "threads")
    POSITIVE_INTS: ClassVar[tuple[str, ...]] = (
        "batch",
        "n_train",
        "n_dev",
        "max_epochs",
        "dev_every",
        "patience",
        "threads",
    )

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> HDPOConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise ValueError(f"unknown hdpo option(s) {unknown}; valid: {', '.join(sorted(names))}")
        cfg = cls(**options)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Raise ``ValueError`` naming the field; subclasses check their own fields, then call this."""
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype={self.dtype!r} is invalid: must be 'float32' or 'float64'")
        for name in self.POSITIVE_INTS:
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
                raise ValueError(f"{name}={v!r} is invalid: must be an integer >= 1")
        if self.max_steps is not None and not (isinstance(self.max_steps, int) and self.max_steps >= 1):
            raise ValueError(f"max_steps={self.max_steps!r} is invalid: must be an integer >= 1 or None")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule={self.lr_schedule!r} is invalid: must be 'constant' or 'cosine'")
        if self.lr_schedule == "cosine" and self.max_steps is None:
            raise ValueError("lr_schedule='cosine' needs max_steps (the length of the decay)")
        if not (isinstance(self.lr_final, (int, float)) and 0 <= self.lr_final <= 1):
            raise ValueError(f"lr_final={self.lr_final!r} is invalid: must be in [0, 1]")
        if self.lr is not None and not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr={self.lr!r} is invalid: must be > 0")
        if self.grad_clip is not None and not (isinstance(self.grad_clip, (int, float)) and self.grad_clip > 0):
            raise ValueError(f"grad_clip={self.grad_clip!r} is invalid: must be > 0 or None")

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}

    @property
    def torch_dtype(self) -> torch.dtype:
        return torch.float32 if self.dtype == "float32" else torch.float64


@dataclasses.dataclass
class Yardstick:
    """A number to compare the dev cost with: the instance's optimum or bound (``gap=True``: the log reports
    the gap in %, and the time to a 1% gap), or a baseline's dev cost (``gap=False``: plotted only)."""

    value: float
    source: str
    gap: bool = True


class HDPOAdapter(abc.ABC):
    """The per-family part of HDPO. ``__init__(env_id, preset, overrides, cfg)`` builds the instance and the
    scenario sets and sets ``problem``, ``architecture`` (plain data), ``lr``, ``clip``, ``train_set`` and
    ``dev_set`` (anything with ``len``; the loop indexes the train set by mini-batches of row indices)."""

    config_type: ClassVar[type[HDPOConfig]] = HDPOConfig
    cost_label: ClassVar[str] = "cost"

    problem: Any
    architecture: dict[str, Any]
    lr: float
    clip: float | None
    train_set: Any
    dev_set: Any

    @abc.abstractmethod
    def build_module(self) -> torch.nn.Module:
        """A freshly initialised policy network (in the configured dtype)."""

    @abc.abstractmethod
    def train_loss(self, module: torch.nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, float]:
        """(differentiable loss of the train scenarios ``idx``, the train cost to log)."""

    @abc.abstractmethod
    def evaluate(self, module: torch.nn.Module, data: Any) -> np.ndarray:
        """Cost of each scenario of ``data`` under ``module``, without gradients (lower is better)."""

    @abc.abstractmethod
    def save_policy(self, out: str, module: torch.nn.Module, meta: dict[str, Any]) -> None:
        """Write ``policy.pt`` and the ``opsrl_policy.json`` manifest (``meta`` = the run's plain data)."""

    def reference(self) -> Yardstick | None:
        """The yardstick of the dev cost, if any."""
        return None

    def test_summary(self, module: torch.nn.Module) -> dict[str, Any]:
        """Keys added to the summary after training (e.g. a test-set cost); none by default."""
        return {}

    def summary(self) -> dict[str, Any]:
        """Keys describing the run's setting, added to the summary."""
        return {}

    def title(self) -> str:
        return f"HDPO ({self.architecture.get('kind', '')})"

    @property
    def name(self) -> str:
        return f"hdpo-{self.architecture.get('kind', 'policy')}"


def learning_rate(cfg: HDPOConfig, lr: float, step: int) -> float:
    """The learning rate of gradient step ``step`` (0-based) under ``cfg.lr_schedule``."""
    if cfg.lr_schedule == "constant" or cfg.max_steps is None:
        return lr
    frac = min(step / cfg.max_steps, 1.0)
    return lr * (cfg.lr_final + (1.0 - cfg.lr_final) * 0.5 * (1.0 + math.cos(math.pi * frac)))


def adapter_for(env_id: str) -> type[HDPOAdapter]:
    if env_id not in ADAPTERS:
        raise ValueError(
            f"hdpo needs a differentiable twin of the dynamics: only {', '.join(ADAPTERS)} have one, not {env_id}"
        )
    return load_object(ADAPTERS[env_id])


# -- log and plot ---------------------------------------------------------------------------------------
def _read_log(out: str, last_epoch: int) -> list[dict[str, str]]:
    """Log rows up to ``last_epoch`` (rows written after the last checkpoint are dropped on resume)."""
    path = os.path.join(out, LOG_FILE)
    if not os.path.exists(path):
        return []
    with open(path, newline="") as fh:
        return [r for r in csv.DictReader(fh) if int(r["epoch"]) <= last_epoch]


def _write_log(out: str, rows: list[dict[str, Any]]) -> None:
    tmp = os.path.join(out, LOG_FILE + ".tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=LOG_FIELDS)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, os.path.join(out, LOG_FILE))


def plot_learning_curve(
    out: str,
    rows: list[dict[str, Any]],
    reference: float | None,
    title: str,
    ylabel: str = "cost per period per store",
    zoom: bool = True,
    reference_label: str = "reference",
) -> str:
    """Train and dev cost per gradient step (and the reference), written to ``out/learning_curve.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    steps = [int(r["step"]) for r in rows]
    ax.plot(steps, [float(r["train_cost"]) for r in rows], label="train (mini-batches since last dev)", alpha=0.6)
    ax.plot(steps, [float(r["dev_cost"]) for r in rows], label="dev")
    if reference is not None:
        ax.axhline(reference, color="#c44e52", ls="--", label=f"{reference_label} {reference:.3f}")
        if zoom:  # costs near a positive optimum: zoom in on the last 80% of the curve
            lo = reference * 0.98
            hi = max([float(r["dev_cost"]) for r in rows[len(rows) // 5 :]] + [reference * 1.1])
            ax.set_ylim(lo, hi)
    ax.set_xlabel("gradient step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    path = os.path.join(out, PLOT_FILE)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


class _Progress:
    """A rich progress bar on stderr (stdout stays clean for ``--json``), or nothing."""

    def __init__(self, enabled: bool, total: float, done: float) -> None:
        self.bar = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("hdpo"),
                BarColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self.task = self.bar.add_task("", total=total, completed=done)
            self.bar.start()

    def update(self, done: float, text: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done, description=text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


# -- training -------------------------------------------------------------------------------------------
def train(
    env_id: str,
    preset: str | None,
    overrides: dict[str, Any],
    seed: int = 0,
    budget_seconds: float = 600.0,
    out: str = "runs/hdpo",
    **options: Any,
) -> dict[str, Any]:
    """Train an HDPO policy on one instance and write the checkpoint directory ``out``.

    Args:
        env_id, preset, overrides: the instance (``opsrl/InventoryNetwork-v0`` or ``opsrl/Portfolio-v0``).
        seed: seeds the network initialisation and the mini-batch order (not the scenarios).
        budget_seconds: wall-clock budget of this invocation for training (dev evaluations included;
            the final test evaluation is not). Re-running resumes and spends a new budget.
        out: checkpoint directory (created; resumed from if it holds a run of the same configuration).
        **options: fields of the family's config (:class:`HDPOConfig` and the adapter's extension).

    Returns:
        A summary: epochs, steps, seconds (cumulative over resumptions), best dev cost and its epoch, the
        yardstick and gaps where known, the time to a 1% dev gap, why training stopped, the family's test
        figures (if any), and the paths written.
    """
    adapter_type = adapter_for(env_id)
    cfg = adapter_type.config_type.from_options(dict(options))
    start_wall = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    # ELU of very negative pre-activations (e.g. an untrained network on large inventories) underflows to
    # denormal floats, which are ~100× slower on x86: flush them to zero while training.
    torch.set_flush_denormal(True)
    try:
        adapter = adapter_type(env_id, preset, dict(overrides or {}), cfg)
        return _train(
            adapter, env_id, preset, dict(overrides or {}), int(seed), float(budget_seconds), out, cfg, start_wall
        )
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(False)


def _train(
    adapter: HDPOAdapter,
    env_id: str,
    preset: str | None,
    overrides: dict[str, Any],
    seed: int,
    budget: float,
    out: str,
    cfg: HDPOConfig,
    start_wall: float,
) -> dict[str, Any]:
    arch, lr, clip = adapter.architecture, adapter.lr, adapter.clip
    train_set = adapter.train_set
    yard = adapter.reference()
    reference = yard.value if yard is not None else None
    gap_ref = reference if yard is not None and yard.gap else None

    torch.manual_seed(seed)
    module = adapter.build_module()
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    identity = {
        "env_id": env_id,
        "preset": preset,
        "overrides": overrides,
        "seed": seed,
        "config": {k: v for k, v in cfg.to_dict().items() if k not in cfg.RESUMABLE},
        "architecture": arch,
        "lr": lr,
    }
    os.makedirs(out, exist_ok=True)
    progress_state = {
        "epoch": 0,
        "step": 0,
        "seconds": 0.0,
        "best_dev": math.inf,
        "best_epoch": 0,
        "seconds_to_1pct": None,
        "stopped": None,
        "batch_in_epoch": 0,
    }
    best_weights = {k: v.clone() for k, v in module.state_dict().items()}
    resumed = False
    saved = load_train_state(out) if cfg.resume else None
    if saved is not None:
        if _with_new_defaults(saved["identity"], cfg) != _plain(identity):
            raise ValueError(
                f"{out} holds a different hdpo run ({saved['identity']}); use another --out or "
                "--option resume=false to start over"
            )
        module.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        best_weights = saved["best_model"]
        progress_state.update(saved["progress"])
        resumed = True
    log_rows = _read_log(out, progress_state["epoch"]) if resumed else []

    def best_module() -> torch.nn.Module:
        best = adapter.build_module()
        best.load_state_dict(best_weights)
        return best

    def checkpoint() -> None:
        save_train_state(
            out,
            {
                "identity": _plain(identity),
                "model": module.state_dict(),
                "optimizer": optimizer.state_dict(),
                "best_model": best_weights,
                "progress": dict(progress_state),
            },
        )
        _write_log(out, log_rows)
        adapter.save_policy(
            out,
            best_module(),
            {
                "algo": "hdpo",
                "name": adapter.name,
                "env_id": env_id,
                "preset": preset,
                "overrides": overrides,
                "seed": seed,
                "config": cfg.to_dict(),
                "lr": lr,
                "best_dev": progress_state["best_dev"],
                "best_epoch": progress_state["best_epoch"],
                "epoch": progress_state["epoch"],
                "step": progress_state["step"],
            },
        )

    def dev_eval(train_cost: float, grad_norm: float) -> None:
        dev = float(adapter.evaluate(module, adapter.dev_set).mean())
        ps = progress_state
        if dev < ps["best_dev"]:
            ps["best_dev"], ps["best_epoch"] = dev, ps["epoch"]
            best_weights.update({k: v.detach().clone() for k, v in module.state_dict().items()})
        gap = None if gap_ref is None else 100.0 * (dev - gap_ref) / abs(gap_ref)
        if gap is not None and gap <= 1.0 and ps["seconds_to_1pct"] is None:
            ps["seconds_to_1pct"] = ps["seconds"]
        log_rows.append(
            {
                "epoch": ps["epoch"],
                "step": ps["step"],
                "seconds": f"{ps['seconds']:.2f}",
                "train_cost": f"{train_cost:.5f}",
                "dev_cost": f"{dev:.5f}",
                "best_dev": f"{ps['best_dev']:.5f}",
                "dev_gap_pct": "" if gap is None else f"{gap:.3f}",
                "grad_norm": f"{grad_norm:.4g}",
                "lr": f"{learning_rate(cfg, lr, max(ps['step'] - 1, 0)):.4g}",
            }
        )
        checkpoint()

    batch = min(cfg.batch, len(train_set))
    n_batches = len(train_set) // batch
    ps = progress_state
    bar = _Progress(cfg.progress, budget, 0.0)
    seconds_at_start = ps["seconds"]
    run_start = time.perf_counter()
    train_costs: list[float] = []
    grad_norm = 0.0
    in_update = False
    ps["stopped"] = None  # a finished run stops again at once; a larger max_epochs continues it
    try:
        if not log_rows and ps["epoch"] == 0:
            dev_eval(float("nan"), 0.0)  # the untrained policy: the first point of the learning curve
        while ps["stopped"] is None:
            if ps["epoch"] >= cfg.max_epochs:
                ps["stopped"] = "max_epochs"
                break
            if cfg.max_steps is not None and ps["step"] >= cfg.max_steps:
                ps["stopped"] = "max_steps"
                break
            if ps["epoch"] - ps["best_epoch"] >= cfg.patience:
                ps["stopped"] = "early_stopping"
                break
            if time.perf_counter() - run_start >= budget:
                ps["stopped"] = "budget"
                break
            # One epoch: a permutation that depends only on (seed, epoch), so resuming mid-epoch is exact.
            gen = torch.Generator().manual_seed(int(np.random.SeedSequence([seed, ps["epoch"]]).generate_state(1)[0]))
            perm = torch.randperm(len(train_set), generator=gen)
            while ps["batch_in_epoch"] < n_batches:
                idx = perm[ps["batch_in_epoch"] * batch : (ps["batch_in_epoch"] + 1) * batch]
                module.train()
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate(cfg, lr, ps["step"])
                in_update = True
                loss, cost = adapter.train_loss(module, idx)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if clip is not None:
                    grad_norm = float(torch.nn.utils.clip_grad_norm_(module.parameters(), clip))
                else:
                    grad_norm = float(
                        torch.nn.utils.get_total_norm([p.grad for p in module.parameters() if p.grad is not None])
                    )
                optimizer.step()
                ps["batch_in_epoch"] += 1
                ps["step"] += 1
                in_update = False
                train_costs.append(cost)
                ps["seconds"] = seconds_at_start + time.perf_counter() - run_start
                if time.perf_counter() - run_start >= budget or ps["step"] == cfg.max_steps:
                    break
            if ps["batch_in_epoch"] >= n_batches:
                ps["epoch"] += 1
                ps["batch_in_epoch"] = 0
            if ps["batch_in_epoch"] == 0 and ps["epoch"] % cfg.dev_every == 0:
                dev_eval(float(np.mean(train_costs)) if train_costs else float("nan"), grad_norm)
                train_costs = []
            gap = "" if gap_ref is None else f" gap {100 * (ps['best_dev'] - gap_ref) / abs(gap_ref):+.2f}%"
            bar.update(
                min(time.perf_counter() - run_start, budget),
                f"epoch {ps['epoch']} step {ps['step']} best dev {ps['best_dev']:.4f}{gap}",
            )
    except KeyboardInterrupt:
        ps["stopped"] = "interrupted"
        if not in_update:  # a half-applied optimizer step is not saved; the last checkpoint stands
            ps["seconds"] = seconds_at_start + time.perf_counter() - run_start
            checkpoint()
        bar.close()
        raise
    bar.close()
    ps["seconds"] = seconds_at_start + time.perf_counter() - run_start
    if ps["batch_in_epoch"] or not log_rows or int(log_rows[-1]["step"]) != ps["step"]:
        dev_eval(float(np.mean(train_costs)) if train_costs else float("nan"), grad_norm)
    else:
        checkpoint()

    result: dict[str, Any] = {
        "epochs": ps["epoch"],
        "steps": ps["step"],
        "seconds": ps["seconds"],
        "stopped": ps["stopped"],
        "resumed": resumed,
        "best_dev": ps["best_dev"],
        "best_epoch": ps["best_epoch"],
        "architecture": arch,
        "lr": lr,
        "batch": batch,
        "n_train": len(train_set),
        "reference": reference,
        "reference_source": yard.source if yard is not None else "",
        "dev_gap_pct": None if gap_ref is None else 100 * (ps["best_dev"] - gap_ref) / abs(gap_ref),
        "seconds_to_1pct_dev_gap": ps["seconds_to_1pct"],
        **adapter.summary(),
    }
    result.update(adapter.test_summary(best_module()))
    result["plot"] = (
        plot_learning_curve(
            out,
            log_rows,
            reference,
            adapter.title(),
            adapter.cost_label,
            zoom=gap_ref is not None,
            reference_label="reference" if gap_ref is not None else (yard.source.split(" (")[0] if yard else ""),
        )
        if log_rows
        else None
    )
    result["log"] = os.path.join(out, LOG_FILE)
    result["wall_seconds"] = time.perf_counter() - start_wall
    return result


def _with_new_defaults(identity: dict[str, Any], cfg: HDPOConfig) -> dict[str, Any]:
    """A saved run's identity with the config fields added since it was written at their defaults (their
    default is the behaviour the run had), so adding an option does not orphan existing checkpoints."""
    defaults = {f.name: f.default for f in dataclasses.fields(cfg) if f.default is not dataclasses.MISSING}
    config = identity.get("config", {})
    missing = {k: _plain(v) for k, v in defaults.items() if k not in config and k not in cfg.RESUMABLE}
    return {**identity, "config": {**config, **missing}} if missing else identity


def _plain(obj: Any) -> Any:
    """Tuples as lists (what a checkpoint round trip gives back), to compare configurations."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


__all__ = ["ADAPTERS", "HDPOAdapter", "HDPOConfig", "Yardstick", "adapter_for", "learning_rate", "plot_learning_curve",
           "train"]
