"""Hindsight Differentiable Policy Optimization (HDPO) for inventory networks (spec ``inventory.md`` §6.1).

HDPO is plain stochastic gradient descent on a sample-average approximation of the expected cost:

1. Draw fixed **scenario sets** once — train (``n_train`` × 50 periods), dev (100 periods) and test
   (``test_horizon`` periods) — from the environment's own ``InventoryNetwork.init`` (start inventories
   and the whole demand path) with fixed seeds that do not depend on the training seed.
2. Each epoch shuffles the train scenarios into mini-batches. For a mini-batch, unroll the policy
   through the differentiable torch twin of the dynamics (:mod:`opsrl.envs.inventory.torch_dynamics`)
   for all periods, average the cost per period per store, and back-propagate through the whole
   trajectory (full BPTT: no critic, no baseline, no score function, a deterministic policy). Adam.
   Gradient-norm clipping for GNNs.
3. Every ``dev_every`` epochs evaluate the dev set (warm-up periods excluded; Poisson orders rounded to
   integers as at evaluation); keep the best-dev weights; stop after ``patience`` epochs without a dev
   improvement, at ``max_epochs``, or when the time budget is spent. The best-dev weights are the policy.

Run it from the command line::

    opsrl train hdpo --env opsrl/InventoryNetwork-v0 --preset one_store_lost_sales --seed 0 \\
        --budget-seconds 120 --out runs/hdpo_lost [--option policy=gnn --option lr=1e-3 ...]
    opsrl eval --env opsrl/InventoryNetwork-v0 --preset one_store_lost_sales --policy runs/hdpo_lost

The output directory holds ``opsrl_policy.json`` + ``policy.pt`` (the best-dev policy, loaded by
:func:`opsrl.policies.inventory.load_policy`), ``train_state.pt`` (everything needed to resume:
current and best weights, Adam state, counters), ``log.csv`` (one row per dev evaluation) and
``learning_curve.png``. Interrupting the run (Ctrl-C or the budget) and re-running the same command
resumes from the last checkpoint: the epoch counter, the optimizer, the best policy and the log continue,
and the shuffling order of each epoch is a function of ``(seed, epoch)``, so a resumed run computes the
same updates as an uninterrupted one.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
import time
from typing import Any

import numpy as np

# OMP_WAIT_POLICY=passive is set by opsrl/__init__.py (imported before this module): numba's idle OpenMP
# workers otherwise spin and make torch's backward pass ~10x slower here (0.8 s vs 0.06 s CPU per step).
import torch

from opsrl.algos.checkpoint import load_train_state, save_train_state
from opsrl.envs.inventory.env import InventoryNetwork
from opsrl.envs.inventory.torch_dynamics import TorchNetwork, rollout
from opsrl.policies.inventory import build_module, default_architecture, save_policy
from opsrl.registration import make_problem

LOG_FILE = "log.csv"
PLOT_FILE = "learning_curve.png"
LOG_FIELDS = ["epoch", "step", "seconds", "train_cost", "dev_cost", "best_dev", "dev_gap_pct", "grad_norm", "lr"]

# Learning rates per setting: the spec's (§6.1) except for networks of independent stores, where its
# 3e-3 (grid up to 1e-2) needs ~1,400 steps to a 1% gap; 3e-2 gets there in ~100–200 steps, which is what
# a CPU affords (the best-dev checkpoint guards against the noisier tail).
DEFAULT_LR = {"one_store": 3e-2, "stores": 3e-2, "serial": 1e-2, "warehouse": 3e-4, "transshipment": 1e-4,
              "gnn": 1e-3}


@dataclasses.dataclass
class HDPOConfig:
    """Options of :func:`train` (``opsrl train hdpo --option KEY=VALUE``). ``None`` = the spec's
    per-setting default, resolved by :meth:`resolve`."""

    policy: str = "mlp"
    """``mlp`` (the vanilla network of the setting) or ``gnn`` (the supply-chain GNN)."""
    hidden: tuple[int, ...] | None = None
    """MLP hidden widths; default per setting (:func:`opsrl.policies.inventory.default_architecture`)."""
    gnn_dim: int = 32
    """GNN embedding width (every GNN MLP has 2 layers of this width)."""
    gnn_steps: int | None = None
    """GNN message-passing steps; default ``n_echelons + 1`` on chains, 2 for many warehouses, else 1."""
    lr: float | None = None
    """Adam learning rate; default per setting (``DEFAULT_LR``): independent stores 3e-2 (spec: 3e-3), serial
    1e-2, warehouse 3e-4, transshipment 1e-4, GNN 1e-3 (spec §6.1)."""
    batch: int = 1024
    """Mini-batch of scenarios per gradient step (spec: 8,192 one store/serial, 1,024 networks)."""
    n_train: int = 8192
    """Training scenarios (the SAA sample). Spec: 32,768 (one store, serial, transshipment), 8,192
    (warehouses); GNN studies 128 / 1,024 / 8,192."""
    n_dev: int = 2048
    """Dev store-scenarios: ``max(256, n_dev // n_stores)`` scenarios (per-store averaging does the rest)."""
    n_test: int = 2048
    """Test store-scenarios, like ``n_dev``; 0 skips the final test evaluation."""
    train_horizon: int = 50
    train_warmup: int = 30
    """Training episodes: periods, and periods excluded from the *reported* train cost (gradients use all)."""
    dev_horizon: int = 100
    dev_warmup: int = 60
    test_horizon: int = 1000
    test_warmup: int = 300
    """Test episodes (spec: 5,000 / 3,000 on a GPU)."""
    max_epochs: int = 20000
    dev_every: int = 1
    """Dev evaluation (and checkpoint) every this many epochs."""
    patience: int = 500
    """Early stopping: epochs without a dev improvement."""
    grad_clip: float | None = None
    """Gradient-norm clipping; default 1.0 for the GNN, none for MLPs (spec §6.1)."""
    data_seed: int = 57
    test_seed: int = 65
    """Seeds of the scenario sets (the reference's train/dev and test demand seeds), independent of the
    training seed, so runs with different seeds share their scenarios."""
    dtype: str = "float32"
    """``float32`` (fast) or ``float64``."""
    threads: int = 1
    """torch CPU threads. One is fastest for these small, overhead-bound unrolls and does not fight other
    processes for cores (2 threads on a busy 2-core machine can be 10× slower)."""
    progress: bool = True
    """Show a rich progress bar (on stderr)."""
    resume: bool = True
    """Resume from ``out/train_state.pt`` if it exists (the configuration must match)."""

    # Fields that may change between an interrupted run and its resumption.
    RESUMABLE = ("max_epochs", "patience", "progress", "resume", "threads", "n_test", "test_horizon",
                 "test_warmup")

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> HDPOConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise ValueError(f"unknown hdpo option(s) {unknown}; valid: {', '.join(sorted(names))}")
        cfg = cls(**options)
        if cfg.policy not in ("mlp", "gnn"):
            raise ValueError(f"policy={cfg.policy!r} is invalid: must be 'mlp' or 'gnn'")
        if cfg.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype={cfg.dtype!r} is invalid: must be 'float32' or 'float64'")
        for name in ("batch", "n_train", "n_dev", "train_horizon", "dev_horizon", "max_epochs", "dev_every",
                     "patience", "threads"):
            if not (isinstance(getattr(cfg, name), int) and getattr(cfg, name) >= 1):
                raise ValueError(f"{name}={getattr(cfg, name)!r} is invalid: must be an integer >= 1")
        for name, horizon in (("train_warmup", cfg.train_horizon), ("dev_warmup", cfg.dev_horizon),
                              ("test_warmup", cfg.test_horizon)):
            if not 0 <= getattr(cfg, name) < horizon:
                raise ValueError(f"{name}={getattr(cfg, name)!r} is invalid: must be in [0, {horizon})")
        if cfg.lr is not None and not cfg.lr > 0:
            raise ValueError(f"lr={cfg.lr!r} is invalid: must be > 0")
        if cfg.hidden is not None:
            cfg.hidden = (cfg.hidden,) if isinstance(cfg.hidden, int) else tuple(int(h) for h in cfg.hidden)
        return cfg

    def resolve(self, problem: InventoryNetwork) -> tuple[dict[str, Any], float, float | None]:
        """The architecture, learning rate and gradient clip for ``problem``."""
        net = problem.network
        arch = default_architecture(net, self.policy)
        if self.policy == "gnn":
            arch["dim"] = self.gnn_dim
            if self.gnn_steps is not None:
                arch["steps"] = int(self.gnn_steps)
        elif self.hidden is not None:
            arch["hidden"] = list(self.hidden)
        lr = self.lr if self.lr is not None else DEFAULT_LR["gnn" if self.policy == "gnn" else setting(problem)]
        clip = self.grad_clip if self.grad_clip is not None else (1.0 if self.policy == "gnn" else None)
        return arch, float(lr), clip

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"] = None if self.hidden is None else list(self.hidden)
        return d


def setting(problem: InventoryNetwork) -> str:
    """``one_store``, ``stores``, ``serial``, ``transshipment`` or ``warehouse`` (for default learning rates)."""
    net = problem.network
    if net.n_nodes == net.n_stores:
        return "one_store" if net.n_stores == 1 else "stores"
    if net.n_stores == 1:
        return "serial"
    return "transshipment" if not net.holds_stock.all() else "warehouse"


# -- scenario sets ----------------------------------------------------------------------------------------
@dataclasses.dataclass
class Scenarios:
    """Start inventories ``inv [n, N, K]`` and demand paths ``demand [n, T, S]`` of one fixed set."""

    inv: torch.Tensor
    demand: torch.Tensor
    warmup: int

    def __len__(self) -> int:
        return self.inv.shape[0]


def draw_scenarios(env_id: str, preset: str | None, overrides: dict[str, Any], n: int, horizon: int, warmup: int,
                   seed: tuple[int, ...], net: TorchNetwork) -> Scenarios:
    """``n`` episodes of ``horizon`` periods from the environment's own ``init`` (its start-state and
    demand distributions) with a fixed seed."""
    problem = make_problem(env_id, preset, **{**overrides, "horizon": horizon, "warmup": warmup})
    state = problem.init(n, np.random.default_rng(np.random.SeedSequence(list(seed))))
    return Scenarios(net.as_tensor(state.inv), net.as_tensor(state.demand), warmup)


def evaluate_cost(module: torch.nn.Module, net: TorchNetwork, data: Scenarios, round_orders: bool,
                  chunk: int = 8192) -> np.ndarray:
    """Cost per period per store of each scenario after the warm-up, without gradients."""
    out = []
    policy_fn = (lambda inv, t: torch.round(module(inv))) if round_orders else (lambda inv, t: module(inv))
    with torch.no_grad():
        for start in range(0, len(data), chunk):
            costs = rollout(net, data.inv[start:start + chunk], data.demand[start:start + chunk], policy_fn)
            out.append((costs[:, data.warmup:].mean(dim=1) / net.n_stores).double().numpy())
    return np.concatenate(out)


# -- checkpoints ----------------------------------------------------------------------------------------
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


def plot_learning_curve(out: str, rows: list[dict[str, Any]], reference: float | None, title: str) -> str:
    """Train and dev cost per gradient step (and the reference), written to ``out/learning_curve.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    steps = [int(r["step"]) for r in rows]
    ax.plot(steps, [float(r["train_cost"]) for r in rows], label="train (mini-batches since last dev)", alpha=0.6)
    ax.plot(steps, [float(r["dev_cost"]) for r in rows], label="dev")
    if reference is not None:
        ax.axhline(reference, color="#c44e52", ls="--", label=f"reference {reference:.3f}")
        lo = reference * 0.98
        hi = max([float(r["dev_cost"]) for r in rows[len(rows) // 5:]] + [reference * 1.1])
        ax.set_ylim(lo, hi)
    ax.set_xlabel("gradient step")
    ax.set_ylabel("cost per period per store")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    path = os.path.join(out, PLOT_FILE)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _exact_reference(problem: InventoryNetwork) -> tuple[float | None, str]:
    """The instance's known optimum or bound (closed forms and tables only; no simulation)."""
    from opsrl.envs.inventory.references import exact_references

    try:
        refs = exact_references(problem)
    except Exception:  # a reference is a convenience for the log; training never depends on it
        return None, ""
    return (refs[0].value, f"{refs[0].kind}: {refs[0].source}") if refs else (None, "")


class _Progress:
    """A rich progress bar on stderr (stdout stays clean for ``--json``), or nothing."""

    def __init__(self, enabled: bool, total: float, done: float) -> None:
        self.bar = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("hdpo"), BarColumn(), TextColumn("{task.description}"),
                                TimeElapsedColumn(), console=Console(stderr=True), transient=False)
            self.task = self.bar.add_task("", total=total, completed=done)
            self.bar.start()

    def update(self, done: float, text: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done, description=text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


# -- training -------------------------------------------------------------------------------------------
def train(env_id: str, preset: str | None, overrides: dict[str, Any], seed: int = 0, budget_seconds: float = 600.0,
          out: str = "runs/hdpo", **options: Any) -> dict[str, Any]:
    """Train an HDPO policy on one inventory instance and write the checkpoint directory ``out``.

    Args:
        env_id, preset, overrides: the instance (``opsrl/InventoryNetwork-v0`` presets).
        seed: seeds the network initialisation and the mini-batch order (not the scenarios).
        budget_seconds: wall-clock budget of this invocation for training (dev evaluations included;
            the final test evaluation is not). Re-running resumes and spends a new budget.
        out: checkpoint directory (created; resumed from if it holds a run of the same configuration).
        **options: :class:`HDPOConfig` fields.

    Returns:
        A summary: epochs, steps, seconds (cumulative over resumptions), best dev cost and its epoch, the
        test cost ± 95% CI of the best policy, the exact reference and gaps where known, the time to a 1%
        dev gap, why training stopped, and the paths written.
    """
    cfg = HDPOConfig.from_options(dict(options))
    start_wall = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    # ELU of very negative pre-activations (an untrained network on large inventories) underflows to
    # denormal floats, which are ~100× slower on x86: flush them to zero while training.
    torch.set_flush_denormal(True)
    try:
        return _train(env_id, preset, dict(overrides or {}), int(seed), float(budget_seconds), out, cfg, start_wall)
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(False)


def _train(env_id: str, preset: str | None, overrides: dict[str, Any], seed: int, budget: float, out: str,
           cfg: HDPOConfig, start_wall: float) -> dict[str, Any]:
    problem = make_problem(env_id, preset, **overrides)
    if not isinstance(problem, InventoryNetwork):
        raise ValueError(f"hdpo needs a differentiable twin of the dynamics: only opsrl/InventoryNetwork-v0 "
                         f"has one, not {env_id}")
    if problem.params.demand_distribution == "series":  # needs the time-window split of spec §3.3
        raise ValueError("hdpo: demand_distribution='series' (real data) is not supported yet")
    arch, lr, clip = cfg.resolve(problem)
    dtype = torch.float32 if cfg.dtype == "float32" else torch.float64
    net = TorchNetwork(problem.network, dtype=dtype)
    round_orders = problem.params.demand_distribution == "poisson"
    S = net.n_stores
    n_dev = max(256, cfg.n_dev // S)
    train_set = draw_scenarios(env_id, preset, overrides, cfg.n_train, cfg.train_horizon, cfg.train_warmup,
                               (cfg.data_seed, 0), net)
    dev_set = draw_scenarios(env_id, preset, overrides, n_dev, cfg.dev_horizon, cfg.dev_warmup,
                             (cfg.data_seed, 1), net)
    reference, ref_source = _exact_reference(problem)

    torch.manual_seed(seed)
    module = build_module(problem, arch).to(dtype)
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    identity = {"env_id": env_id, "preset": preset, "overrides": overrides, "seed": seed,
                "config": {k: v for k, v in cfg.to_dict().items() if k not in HDPOConfig.RESUMABLE},
                "architecture": arch, "lr": lr}
    os.makedirs(out, exist_ok=True)
    progress_state = {"epoch": 0, "step": 0, "seconds": 0.0, "best_dev": math.inf, "best_epoch": 0,
                      "seconds_to_1pct": None, "stopped": None, "batch_in_epoch": 0}
    best_weights = {k: v.clone() for k, v in module.state_dict().items()}
    resumed = False
    saved = load_train_state(out) if cfg.resume else None
    if saved is not None:
        if saved["identity"] != _plain(identity):
            raise ValueError(f"{out} holds a different hdpo run ({saved['identity']}); use another --out or "
                             "--option resume=false to start over")
        module.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        best_weights = saved["best_model"]
        progress_state.update(saved["progress"])
        resumed = True
    log_rows = _read_log(out, progress_state["epoch"]) if resumed else []

    def checkpoint() -> None:
        save_train_state(out, {"identity": _plain(identity), "model": module.state_dict(),
                          "optimizer": optimizer.state_dict(), "best_model": best_weights,
                          "progress": dict(progress_state)})
        _write_log(out, log_rows)
        best = build_module(problem, arch).to(dtype)
        best.load_state_dict(best_weights)
        save_policy(out, best, arch, round_orders,
                    {"algo": "hdpo", "name": f"hdpo-{arch['kind']}", "env_id": env_id, "preset": preset,
                     "overrides": overrides, "seed": seed, "config": cfg.to_dict(), "lr": lr,
                     "best_dev": progress_state["best_dev"], "best_epoch": progress_state["best_epoch"],
                     "epoch": progress_state["epoch"], "step": progress_state["step"]})

    def dev_eval(train_cost: float, grad_norm: float) -> None:
        dev = float(evaluate_cost(module, net, dev_set, round_orders).mean())
        ps = progress_state
        if dev < ps["best_dev"]:
            ps["best_dev"], ps["best_epoch"] = dev, ps["epoch"]
            best_weights.update({k: v.detach().clone() for k, v in module.state_dict().items()})
        gap = None if reference is None else 100.0 * (dev - reference) / abs(reference)
        if gap is not None and gap <= 1.0 and ps["seconds_to_1pct"] is None:
            ps["seconds_to_1pct"] = ps["seconds"]
        log_rows.append({"epoch": ps["epoch"], "step": ps["step"], "seconds": f"{ps['seconds']:.2f}",
                         "train_cost": f"{train_cost:.5f}", "dev_cost": f"{dev:.5f}",
                         "best_dev": f"{ps['best_dev']:.5f}", "dev_gap_pct": "" if gap is None else f"{gap:.3f}",
                         "grad_norm": f"{grad_norm:.4g}", "lr": lr})
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
                idx = perm[ps["batch_in_epoch"] * batch:(ps["batch_in_epoch"] + 1) * batch]
                module.train()
                in_update = True
                costs = rollout(net, train_set.inv[idx], train_set.demand[idx], lambda inv, t: module(inv))
                loss = costs.mean() / S
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if clip is not None:
                    grad_norm = float(torch.nn.utils.clip_grad_norm_(module.parameters(), clip))
                else:
                    grad_norm = float(torch.nn.utils.get_total_norm(
                        [p.grad for p in module.parameters() if p.grad is not None]))
                optimizer.step()
                ps["batch_in_epoch"] += 1
                ps["step"] += 1
                in_update = False
                train_costs.append(float(costs[:, train_set.warmup:].detach().mean()) / S)
                ps["seconds"] = seconds_at_start + time.perf_counter() - run_start
                if time.perf_counter() - run_start >= budget:
                    break
            if ps["batch_in_epoch"] >= n_batches:
                ps["epoch"] += 1
                ps["batch_in_epoch"] = 0
            if ps["batch_in_epoch"] == 0 and ps["epoch"] % cfg.dev_every == 0:
                dev_eval(float(np.mean(train_costs)) if train_costs else float("nan"), grad_norm)
                train_costs = []
            gap = "" if reference is None else f" gap {100 * (ps['best_dev'] - reference) / abs(reference):+.2f}%"
            bar.update(min(time.perf_counter() - run_start, budget),
                       f"epoch {ps['epoch']} step {ps['step']} best dev {ps['best_dev']:.4f}{gap}")
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

    # Test the best-dev policy on its own scenario set.
    result: dict[str, Any] = {
        "epochs": ps["epoch"], "steps": ps["step"], "seconds": ps["seconds"], "stopped": ps["stopped"],
        "resumed": resumed, "best_dev": ps["best_dev"], "best_epoch": ps["best_epoch"],
        "architecture": arch, "lr": lr, "batch": batch, "n_train": len(train_set),
        "reference": reference, "reference_source": ref_source,
        "dev_gap_pct": None if reference is None else 100 * (ps["best_dev"] - reference) / abs(reference),
        "seconds_to_1pct_dev_gap": ps["seconds_to_1pct"],
    }
    if cfg.n_test > 0:
        best = build_module(problem, arch).to(dtype)
        best.load_state_dict(best_weights)
        test_set = draw_scenarios(env_id, preset, overrides, max(256, cfg.n_test // S), cfg.test_horizon,
                                  cfg.test_warmup, (cfg.test_seed,), net)
        test = evaluate_cost(best, net, test_set, round_orders, chunk=max(256, 8192 // S))
        from opsrl.eval.stats import mean_ci95

        mean, half = mean_ci95(test)
        result.update(test_cost=mean, test_ci95=half, test_scenarios=len(test_set),
                      test_gap_pct=None if reference is None else 100 * (mean - reference) / abs(reference))
    title = f"HDPO ({arch['kind']}) on {preset or problem.params.default_preset}"
    result["plot"] = plot_learning_curve(out, log_rows, reference, title) if log_rows else None
    result["log"] = os.path.join(out, LOG_FILE)
    result["wall_seconds"] = time.perf_counter() - start_wall
    return result


def _plain(obj: Any) -> Any:
    """Tuples as lists (what a checkpoint round trip gives back), to compare configurations."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


__all__ = ["HDPOConfig", "draw_scenarios", "evaluate_cost", "train"]
