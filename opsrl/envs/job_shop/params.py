"""Parameters and presets of the job-shop family (``opsrl/JobShop-v0``, spec ``job_shop.md`` §3).

An env holds either named instances (``instance="ta01"``, or a tuple of names: a preset like
``taillard_15x15`` draws one of them per episode), a user instance (``durations`` + ``machines``), or a
random generator (``generator`` with ``n_jobs`` × ``n_machines``; a new instance per episode from the env's
RNG). Every field can be overridden: ``gym.make("opsrl/JobShop-v0", preset="ta01", placement="append")``.

Aliases accepted for the wording of issue 4: ``placement="active"`` = ``insert``; ``reward="lower_bound"`` =
``lb_decrease``, ``reward="makespan"`` = ``sparse_makespan``. The non-delay semantics are
``candidate_filter="non_delay"`` with ``placement="append"`` (presets ``nondelay_*``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from opsrl.core.errors import fail, one_of, require
from opsrl.core.params import Params
from opsrl.envs.job_shop import instances as inst

PLACEMENTS = ("insert", "append")
FILTERS = ("none", "non_delay")
REWARDS = ("lb_decrease", "sparse_makespan", "makespan_increase")
FEATURE_SETS = ("l2d", "rich")
GENERATORS = ("taillard_lcg", "uniform", "l2d_compat", "fixed")
ALIASES = {"placement": {"active": "insert", "semi_active": "append"},
           "reward": {"lower_bound": "lb_decrease", "makespan": "sparse_makespan", "dense_makespan":
                      "makespan_increase"}}
RANDOM_SIZES = ((6, 6), (10, 10), (15, 15), (20, 15), (20, 20), (30, 15), (30, 20))
L2D_SIZES = ((6, 6), (10, 10), (15, 15), (20, 20), (30, 20))


@dataclasses.dataclass(frozen=True)
class JobShopParams(Params):
    """Parameters of one job-shop env (spec §3.1)."""

    default_preset: ClassVar[str] = "ta01"

    instance: str | tuple[str, ...] | None = None
    """A named instance (``ta01``, ``ft06``, ``ortools_toy`` ...; see ``instances.named_instances()``) or a
    tuple of names (one drawn uniformly per episode). Sets ``generator="fixed"``."""
    durations: Any = dataclasses.field(default=None, compare=False, repr=False)
    """A user instance: int array (n_jobs, n_machines) of processing times (0 = padding of a ragged job).
    It replaces the preset's ``instance``."""
    machines: Any = dataclasses.field(default=None, compare=False, repr=False)
    """0-based machine of each op, same shape as ``durations`` (−1 = padding)."""
    generator: str = "taillard_lcg"
    """Random instances per episode: ``taillard_lcg`` (random seed pairs: Taillard's exact distribution),
    ``uniform``, ``l2d_compat`` (durations 1..98); ``fixed`` when ``instance``/``durations`` is given."""
    n_jobs: int = 15
    n_machines: int = 15
    duration_low: int = 1
    duration_high: int = 99
    """Inclusive range of random durations (``l2d_compat`` excludes ``duration_high``, as L2D does)."""
    placement: str = "insert"
    """``insert`` (active: earliest start, filling idle gaps; L2D) or ``append`` (semi-active)."""
    candidate_filter: str = "none"
    """``none`` (every unfinished job; admits an optimum) or ``non_delay`` (only jobs whose next op can
    start earliest)."""
    reward: str = "lb_decrease"
    """``lb_decrease`` (L2D dense: decrease of max C_LB), ``sparse_makespan`` (−C_max at the end),
    ``makespan_increase`` (−increase of the partial makespan)."""
    reward_scale: float = 1.0
    """κ: rewards are divided by it."""
    zero_reward_value: float = 0.0
    """Replaces rewards that are exactly 0 (L2D's ``rewardscale``)."""
    feature_set: str = "l2d"
    """``l2d`` (C_LB / time_norm, scheduled flag) or ``rich`` (adds p/p_max, remaining job work, remaining
    ops, machine load, earliest start, candidate flag; spec §4.2)."""
    time_norm: float = 1000.0
    self_loops: bool = True
    """Graph view: add a self-loop on every op node (L2D adjacency)."""

    @classmethod
    def presets(cls) -> dict[str, dict[str, Any]]:
        return _PRESETS

    def __post_init__(self) -> None:
        for name, table in ALIASES.items():
            value = getattr(self, name)
            if isinstance(value, str) and value in table:
                object.__setattr__(self, name, table[value])
        if isinstance(self.instance, list):
            object.__setattr__(self, "instance", tuple(self.instance))
        if self.durations is not None:  # a user instance replaces the preset's named instance(s)
            object.__setattr__(self, "instance", None)
        if self.instance is not None or self.durations is not None:
            object.__setattr__(self, "generator", "fixed")
        super().__post_init__()

    def validate(self) -> None:
        one_of("placement", self.placement, PLACEMENTS)
        one_of("candidate_filter", self.candidate_filter, FILTERS)
        one_of("reward", self.reward, REWARDS)
        one_of("feature_set", self.feature_set, FEATURE_SETS)
        one_of("generator", self.generator, GENERATORS)
        require(np.isfinite(self.reward_scale) and self.reward_scale > 0, "reward_scale", self.reward_scale,
                "must be > 0")
        require(np.isfinite(self.zero_reward_value), "zero_reward_value", self.zero_reward_value, "must be finite")
        require(np.isfinite(self.time_norm) and self.time_norm > 0, "time_norm", self.time_norm, "must be > 0")
        if self.generator == "fixed":
            self.instance_list()  # loads and checks every instance
            return
        for name in ("n_jobs", "n_machines"):
            v = getattr(self, name)
            require(isinstance(v, (int, np.integer)) and 2 <= v <= 1000, name, v, "must be an integer in [2, 1000]")
        lo, hi = self.duration_low, self.duration_high
        require(isinstance(lo, (int, np.integer)) and lo >= 1, "duration_low", lo, "must be an integer >= 1")
        require(isinstance(hi, (int, np.integer)) and lo <= hi <= 2**20, "duration_high", hi,
                f"must be an integer in [duration_low={lo}, 2^20]")
        if self.generator == "l2d_compat":
            require(hi > lo, "duration_high", hi, "l2d_compat draws from [low, high): needs high > low")

    # -- resolved instances ---------------------------------------------------------------------------
    def instance_names(self) -> tuple[str, ...]:
        if self.instance is None:
            return ()
        return (self.instance,) if isinstance(self.instance, str) else tuple(self.instance)

    def instance_list(self) -> list[inst.Instance]:
        """The fixed instances (``generator="fixed"``), padded to one common (n, m)."""
        if self.durations is not None:
            if self.machines is None:
                fail("machines", None, "is required with durations")
            return [inst.check_instance(self.durations, self.machines, field="durations/machines")]
        names = self.instance_names()
        require(len(names) >= 1 and all(isinstance(x, str) for x in names), "instance", self.instance,
                "must be a name or a non-empty tuple of names")
        try:
            found = [inst.load(name) for name in names]
        except ImportError:
            raise
        except ValueError as err:
            fail("instance", self.instance, str(err))
        # Jobs are the action space, so instances of one env share n_jobs; shorter machine counts are padded.
        n = found[0].n_jobs
        require(all(x.n_jobs == n for x in found), "instance", self.instance,
                "instances of one env must have the same n_jobs")
        m = max(x.n_machines for x in found)
        out = []
        for x in found:
            d = np.zeros((n, m), dtype=np.int64)
            c = np.full((n, m), -1, dtype=np.int64)
            d[:, :x.n_machines] = x.durations
            c[:, :x.n_machines] = x.machines
            out.append(inst.Instance(d, c))
        return out

    def shape(self) -> tuple[int, int]:
        """(n_jobs, n_machines) of the env's arrays (the padded size for instance lists)."""
        if self.generator == "fixed":
            first = self.instance_list()[0]
            return first.n_jobs, first.n_machines
        return int(self.n_jobs), int(self.n_machines)


def _presets() -> dict[str, dict[str, Any]]:
    p: dict[str, dict[str, Any]] = {}
    for name in inst.taillard_names():
        p[name] = {"instance": name}
    for group in inst.TAILLARD_GROUPS:
        p[f"taillard_{group}"] = {"instance": tuple(inst.taillard_names(group))}
    for name in inst.named_instances():
        if not name.startswith("ta") or name == "taillard_check_4x4":
            p[name] = {"instance": name}
    for n, m in RANDOM_SIZES:
        p[f"random_{n}x{m}"] = {"generator": "taillard_lcg", "n_jobs": n, "n_machines": m}
    for n, m in L2D_SIZES:
        p[f"l2d_train_{n}x{m}"] = {"generator": "l2d_compat", "n_jobs": n, "n_machines": m}
    p["nondelay_15x15"] = {"generator": "taillard_lcg", "n_jobs": 15, "n_machines": 15,
                           "candidate_filter": "non_delay", "placement": "append"}
    return p


_PRESETS = _presets()
