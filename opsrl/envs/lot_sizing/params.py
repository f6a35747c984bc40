"""Parameters, instance generator and presets of the lot-sizing family (``opsrl/LotSizing-v0``).

An instance is I items made on M parallel machines (spec ``lot_sizing.md`` §2.1). Every data field takes
a scalar (broadcast), a full array, or ``None``: ``None`` fields are drawn by the **seeded instance
generator** below from ``generator_seed`` and the ``gen_*`` rules, so ``gym.make(id, preset="pdppo_15x5",
generator_seed=3)`` or ``gen_production=(0, 20, 0.3)`` gives a new, reproducible instance, and any
explicit field (``lost_sales_costs=0.5``) overrides the generator for that field only.

Generator (spec §3.1). A draw G(lo, hi, p_lo) takes values lo, lo+1, ..., (integer steps up to hi,
i.e. ``numpy.arange(lo, hi + 1)``); P(lo) = p_lo and the other values share 1 − p_lo equally. With
``rng = numpy.random.default_rng(generator_seed)`` the fields are drawn in this order:

1. ``machine_production`` [M, I] ~ G(*gen_production); an item no machine can make has its column
   redrawn until some machine can (the fix of spec §3.1 — the reference only warns);
2. ``setup_costs`` [M, I] ~ G(*gen_setup_costs);
3. ``setup_loss`` [M, I] ~ G(*gen_setup_loss);
4. ``lost_sales_costs`` [I] ~ G(*gen_lost_sales) with integer steps (``lost_sales_mode="reference"``:
   (0.1, 0.3, 0.5) gives {0.1, 1.1}, the reference quirk) or steps of 0.1 (``"intended"``: {0.1, 0.2, 0.3}
   with P(0.1) = 0.5);
5. ``initial_inventory`` [I] ~ G(*gen_initial_inventory);
6. ``initial_setup`` [M] ~ G(0, I, gen_initial_idle); an item the machine cannot make becomes idle.

Every field is drawn even when it is given explicitly, so overriding one field never changes the others.
The data of the ``pdppo_*`` presets are also shipped as reference-format JSON files in ``instances/``
(a test asserts the generator still reproduces them, so the instances never drift).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, ClassVar, NamedTuple

import numpy as np
from scipy import stats

from opsrl.core.errors import ParameterError, fail, finite_array, one_of, require
from opsrl.core.params import Params

DEMAND_KINDS = ("binomial", "discrete_uniform", "poisson", "pmf")
COMPAT_MODES = ("clean", "simpleplant")
LOST_SALES_MODES = ("reference", "intended")
INSTANCE_DIR = os.path.join(os.path.dirname(__file__), "instances")
POISSON_TAIL = 1e-12  # Poisson pmfs are truncated where the tail mass falls below this (folded into the last)

Scalar = float | int
Array = Scalar | tuple | None


class Instance(NamedTuple):
    """The resolved data of one instance (all numpy arrays)."""

    production: np.ndarray  # int64 [M, I]  P; 0 = machine cannot make the item
    setup_cost: np.ndarray  # float64 [M, I]  F
    setup_loss: np.ndarray  # int64 [M, I]  Λ
    max_inventory: np.ndarray  # int64 [I]
    holding: np.ndarray  # float64 [I]
    lost_sales: np.ndarray  # float64 [I]
    initial_inventory: np.ndarray  # int64 [I]
    initial_setup: np.ndarray  # int64 [M]  0 idle, k = item k
    demand_pmf: np.ndarray  # float64 [I, D+1]  P(d_i = k)

    @property
    def n_items(self) -> int:
        return self.production.shape[1]

    @property
    def n_machines(self) -> int:
        return self.production.shape[0]

    @property
    def demand_mean(self) -> np.ndarray:
        return self.demand_pmf @ np.arange(self.demand_pmf.shape[1])


def g_values(lo: float, hi: float, step: float = 1.0) -> np.ndarray:
    """Support of G(lo, hi, ·): lo, lo+step, ... up to hi (integer steps: ``arange(lo, hi + 1)``)."""
    if step == 1.0:
        return np.arange(lo, hi + 1)
    return np.round(np.arange(lo, hi + step / 2, step), 10)


def g_draw(rng: np.random.Generator, rule: tuple[float, float, float], size: Any, step: float = 1.0) -> np.ndarray:
    """Draw G(lo, hi, p_lo): P(lo) = p_lo, the other support points share 1 − p_lo equally."""
    lo, hi, p_lo = rule
    vals = g_values(lo, hi, step)
    if vals.size == 1:
        return np.full(size, vals[0])
    probs = np.full(vals.size, (1.0 - p_lo) / (vals.size - 1))
    probs[0] = p_lo
    return rng.choice(vals, size=size, p=probs)


@dataclasses.dataclass(frozen=True)
class LotSizingParams(Params):
    """Parameters of one stochastic discrete lot-sizing instance (spec ``lot_sizing.md`` §2–§3)."""

    default_preset: ClassVar[str] = "pdppo_15x5"

    n_items: int = 15
    """I, number of items."""
    n_machines: int = 5
    """M, number of parallel machines."""
    horizon: int = 100
    """T, periods per episode (the episode terminates after T steps)."""

    machine_production: Array = None
    """P [M, I]: units per period when machine m is set up for item i; 0 = m cannot make i. None: generated."""
    setup_costs: Array = None
    """F [M, I]: cost of switching machine m to item i (sequence-independent). None: generated."""
    setup_loss: Array = None
    """Λ [M, I]: units lost in the period of a switch. None: generated."""
    max_inventory: Array = None
    """Imax [I]: stock cap after demand; the excess is discarded at no cost. None: 100 (spec §3.1)."""
    holding_costs: Array = None
    """h [I]: cost per unit of end-of-period stock. None: 0.01 (spec §3.1)."""
    lost_sales_costs: Array = None
    """ls [I]: cost per unit of lost demand. None: generated."""
    initial_inventory: Array = None
    """I0 [I]: start stock when ``random_reset=False``. None: generated."""
    initial_setup: Array = None
    """σ0 [M]: start setup per machine (0 idle, k = item k) when ``random_reset=False``. None: generated."""

    demand_distribution: str | None = None
    """i.i.d. demand per item and period: ``binomial`` (n, p), ``discrete_uniform`` (low..high),
    ``poisson`` (mean) or ``pmf`` (explicit probabilities). None: the ``instance_path`` file's
    distribution if it has one, else ``binomial``."""
    demand_n: int = 20
    demand_p: float = 0.4
    demand_low: int = 0
    demand_high: int = 10
    demand_mean: float = 8.0
    """Mean of ``poisson`` demand."""
    demand_pmf: tuple | None = None
    """``pmf``: probabilities of demand 0, 1, 2, ... (one list for all items, or one list per item)."""

    generator_seed: int = 0
    """Seed of ``numpy.random.default_rng`` for every generated field."""
    gen_production: tuple[float, float, float] = (0, 40, 0.4)
    gen_setup_costs: tuple[float, float, float] = (15, 30, 0.2)
    gen_setup_loss: tuple[float, float, float] = (1, 3, 0.7)
    gen_lost_sales: tuple[float, float, float] = (0.1, 0.3, 0.5)
    lost_sales_mode: str = "reference"
    """``reference``: integer steps ({0.1, 1.1} for the default rule, spec §7.2); ``intended``: steps of 0.1."""
    gen_initial_inventory: tuple[float, float, float] = (0, 50, 0.05)
    gen_initial_idle: float = 0.4
    """P(σ0 = idle) in the generator (the other items share the rest)."""
    instance_path: str | None = None
    """A JSON instance in the reference format (spec §2.1). Its sizes replace ``n_items`` / ``n_machines``,
    its data every data field left at None (explicit fields still win); ``horizon`` stays a parameter."""

    random_reset: bool = True
    """True: reset draws I_i ~ U{0..Imax_i − 1} and each machine's setup uniformly among the items it can
    make (the PDPPO reference); False: start from ``initial_inventory`` / ``initial_setup``."""
    compat: str = "clean"
    """``clean`` (default) or ``simpleplant`` (every quirk of the reference env, spec §2.5)."""
    exclusive_items: bool = False
    """True: at most one machine per item and period; a higher-index machine choosing an item already
    taken this period idles instead."""
    obs_setup: bool | None = None
    """Observe each machine's setup (one-hot). None: True in clean mode, False in compat mode."""
    obs_time: bool | None = None
    """Observe t/T. None: True in clean mode, False in compat mode."""
    obs_normalize: bool = False
    """Divide the inventory entries of the observation by Imax (the spec layout keeps units)."""

    @classmethod
    def presets(cls) -> dict[str, dict[str, Any]]:
        return _PRESETS

    # -- validation -----------------------------------------------------------------------------------
    def validate(self) -> None:
        for name in ("n_items", "n_machines", "horizon"):
            v = getattr(self, name)
            require(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1, name, v,
                    "must be an integer >= 1")
        if self.demand_distribution is not None:
            one_of("demand_distribution", self.demand_distribution, DEMAND_KINDS)
        one_of("compat", self.compat, COMPAT_MODES)
        one_of("lost_sales_mode", self.lost_sales_mode, LOST_SALES_MODES)
        for name in ("random_reset", "exclusive_items", "obs_normalize"):
            require(isinstance(getattr(self, name), (bool, np.bool_)), name, getattr(self, name), "must be a bool")
        for name in ("obs_setup", "obs_time"):
            v = getattr(self, name)
            require(v is None or isinstance(v, (bool, np.bool_)), name, v, "must be a bool or None")
        require(isinstance(self.generator_seed, (int, np.integer)) and self.generator_seed >= 0,
                "generator_seed", self.generator_seed, "must be an integer >= 0")
        for name in ("gen_production", "gen_setup_costs", "gen_setup_loss", "gen_lost_sales",
                     "gen_initial_inventory"):
            rule = finite_array(name, getattr(self, name), low=0.0)
            require(rule.shape == (3,) and rule[0] <= rule[1] and rule[2] <= 1.0, name, getattr(self, name),
                    "must be (lo, hi, p_lo) with 0 <= lo <= hi and p_lo in [0, 1]")
        require(0.0 <= self.gen_initial_idle <= 1.0, "gen_initial_idle", self.gen_initial_idle, "must be in [0, 1]")
        if self.instance_path is not None:
            require(os.path.isfile(str(self.instance_path)), "instance_path", self.instance_path,
                    "must be an existing JSON file")
            user = read_reference_json(str(self.instance_path))
            object.__setattr__(self, "n_items", user["n_items"])  # the file defines the sizes
            object.__setattr__(self, "n_machines", user["n_machines"])
        object.__setattr__(self, "_instance", self._resolve())

    # -- resolved data --------------------------------------------------------------------------------
    def instance(self) -> Instance:
        """The resolved, validated arrays of this instance (computed once at construction)."""
        return self._instance  # type: ignore[attr-defined]

    @property
    def compat_mode(self) -> bool:
        return self.compat == "simpleplant"

    @property
    def observe_setup(self) -> bool:
        return (not self.compat_mode) if self.obs_setup is None else bool(self.obs_setup)

    @property
    def observe_time(self) -> bool:
        return (not self.compat_mode) if self.obs_time is None else bool(self.obs_time)

    def _resolve(self) -> Instance:
        n_items, n_mach = int(self.n_items), int(self.n_machines)
        gen = generate(n_items, n_mach, self)
        user = read_reference_json(str(self.instance_path)) if self.instance_path is not None else {}
        gen["max_inventory_level"], gen["holding_costs"] = 100, 0.01

        def pick(name: str, ufield: str, shape: tuple[int, ...], **checks: Any) -> np.ndarray:
            value = getattr(self, name)
            if value is None:
                value = user.get(ufield, gen[ufield])
            arr = finite_array(name, value, **checks)
            if arr.ndim == 0:
                arr = np.full(shape, arr.item(), dtype=arr.dtype)
            if arr.shape != shape:
                fail(name, value, f"must be a scalar or an array of shape {shape} (got {arr.shape})")
            return arr

        M, n_it = n_mach, n_items
        prod = pick("machine_production", "machine_production", (M, n_it), low=0, integer=True)
        cost = pick("setup_costs", "setup_costs", (M, n_it), low=0.0)
        loss = pick("setup_loss", "setup_loss", (M, n_it), low=0, integer=True)
        imax = pick("max_inventory", "max_inventory_level", (n_it,), low=1, integer=True)
        hold = pick("holding_costs", "holding_costs", (n_it,), low=0.0)
        ls = pick("lost_sales_costs", "lost_sales_costs", (n_it,), low=0.0)
        i0 = pick("initial_inventory", "initial_inventory", (n_it,), low=0, integer=True)
        s0 = pick("initial_setup", "initial_setup", (M,), low=0, high=n_it, integer=True)
        if not self.compat_mode:
            bad = [m for m in range(M) if s0[m] > 0 and prod[m, s0[m] - 1] == 0]
            require(not bad, "initial_setup", self.initial_setup if self.initial_setup is not None else s0.tolist(),
                    f"machines {bad} start set up for an item they cannot make")
        if self.compat_mode is False:
            missing = np.flatnonzero(prod.sum(0) == 0)
            require(missing.size == 0, "machine_production", self.machine_production,
                    f"items {missing.tolist()} (0-based) have no capable machine")
        require(np.all(i0 <= imax), "initial_inventory", i0.tolist(), f"must be <= max_inventory {imax.tolist()}")
        pmf = self._demand_pmf(n_it, user)
        return Instance(prod, cost, loss, imax, hold, ls, i0, s0, pmf)

    def _demand_pmf(self, n_items: int, user: dict[str, Any]) -> np.ndarray:
        kind = self.demand_distribution
        if kind is None and "demand_pmf" in user:
            return _pad([np.asarray(p, float) for p in user["demand_pmf"]], n_items)
        kind = kind or "binomial"
        if kind == "binomial":
            require(isinstance(self.demand_n, (int, np.integer)) and self.demand_n >= 0, "demand_n", self.demand_n,
                    "must be an integer >= 0")
            require(0.0 <= self.demand_p <= 1.0, "demand_p", self.demand_p, "must be in [0, 1]")
            pmf = stats.binom.pmf(np.arange(self.demand_n + 1), self.demand_n, self.demand_p)
            return np.tile(pmf / pmf.sum(), (n_items, 1))
        if kind == "discrete_uniform":
            lo, hi = self.demand_low, self.demand_high
            require(isinstance(lo, (int, np.integer)) and lo >= 0, "demand_low", lo, "must be an integer >= 0")
            require(isinstance(hi, (int, np.integer)) and hi >= lo, "demand_high", hi, f"must be an integer >= {lo}")
            pmf = np.zeros(hi + 1)
            pmf[lo:] = 1.0 / (hi - lo + 1)
            return np.tile(pmf, (n_items, 1))
        if kind == "poisson":
            require(0.0 < self.demand_mean < 1e4, "demand_mean", self.demand_mean, "must be in (0, 1e4)")
            top = int(stats.poisson.isf(POISSON_TAIL, self.demand_mean)) + 1
            pmf = stats.poisson.pmf(np.arange(top + 1), self.demand_mean)
            pmf[-1] += 1.0 - pmf.sum()
            return np.tile(pmf, (n_items, 1))
        if self.demand_pmf is None:
            fail("demand_pmf", None, "is required when demand_distribution='pmf'")
        raw = self.demand_pmf
        rows = [raw] if np.ndim(raw[0]) == 0 else list(raw)
        arrs = [finite_array("demand_pmf", r, low=0.0) for r in rows]
        for a in arrs:
            require(a.ndim == 1 and a.size >= 1 and abs(a.sum() - 1.0) < 1e-9, "demand_pmf", raw,
                    "each list must hold probabilities of 0, 1, 2, ... summing to 1")
        require(len(arrs) in (1, n_items), "demand_pmf", raw, f"must be one list or {n_items} lists")
        return _pad(arrs, n_items)


def _pad(rows: list[np.ndarray], n_items: int) -> np.ndarray:
    width = max(r.size for r in rows)
    out = np.zeros((len(rows), width))
    for k, r in enumerate(rows):
        out[k, : r.size] = r / r.sum()
    return np.tile(out, (n_items, 1)) if len(rows) == 1 else out


# -- generator and reference JSON ---------------------------------------------------------------------
def generate(n_items: int, n_machines: int, p: LotSizingParams) -> dict[str, np.ndarray]:
    """Draw every generated field of spec §3.1 (module docstring) with ``default_rng(generator_seed)``."""
    rng = np.random.default_rng(int(p.generator_seed))
    M, n_it = n_machines, n_items
    prod = g_draw(rng, p.gen_production, (M, n_it)).astype(np.int64)
    if p.gen_production[1] > 0:
        for i in range(n_it):  # every item needs a capable machine: redraw its column
            while prod[:, i].sum() == 0:
                prod[:, i] = g_draw(rng, p.gen_production, M).astype(np.int64)
    cost = g_draw(rng, p.gen_setup_costs, (M, n_it)).astype(np.float64)
    loss = g_draw(rng, p.gen_setup_loss, (M, n_it)).astype(np.int64)
    step = 1.0 if p.lost_sales_mode == "reference" else 0.1
    ls = np.round(g_draw(rng, p.gen_lost_sales, n_it, step=step).astype(np.float64), 10)
    i0 = g_draw(rng, p.gen_initial_inventory, n_it).astype(np.int64)
    s0 = g_draw(rng, (0, n_it, p.gen_initial_idle), M).astype(np.int64)
    for m in range(M):
        if s0[m] > 0 and prod[m, s0[m] - 1] == 0:
            s0[m] = 0
    return {"machine_production": prod, "setup_costs": cost, "setup_loss": loss, "lost_sales_costs": ls,
            "initial_inventory": i0, "initial_setup": s0}


def read_reference_json(path: str) -> dict[str, Any]:
    """Read an instance in the reference JSON format (spec §2.1) into field values."""
    with open(path) as fh:
        d = json.load(fh)
    try:
        out: dict[str, Any] = {
            "n_items": int(d["n_items"]), "n_machines": int(d["n_machines"]),
            "machine_production": d["machine_production"], "setup_costs": d["setup_costs"],
            "setup_loss": d["setup_loss"], "max_inventory_level": d["max_inventory_level"],
            "holding_costs": d["holding_costs"], "lost_sales_costs": d["lost_sales_costs"],
            "initial_inventory": d["initial_inventory"], "initial_setup": d["initial_setup"],
        }
    except KeyError as exc:
        raise ParameterError(f"instance_path={path!r} is invalid: missing key {exc}") from None
    if "time_horizon" in d:
        out["time_horizon"] = int(d["time_horizon"])
    dist = d.get("demand_distribution")
    if dist is not None:
        out["demand_pmf"] = [_dist_pmf(dist, path)] * out["n_items"] if not isinstance(dist, list) \
            else [_dist_pmf(x, path) for x in dist]
    return out


def _dist_pmf(dist: dict[str, Any], path: str) -> np.ndarray:
    name = dist.get("name")
    if name == "binomial":
        n, p = int(dist["n"]), float(dist["p"])
        return stats.binom.pmf(np.arange(n + 1), n, p)
    if name == "discrete_uniform":
        lo, hi = int(dist["low"]), int(dist["high"])
        pmf = np.zeros(hi + 1)
        pmf[lo:] = 1.0 / (hi - lo + 1)
        return pmf
    if name == "probability_mass_function":
        vals, probs = np.asarray(dist["vals"], int), np.asarray(dist["probs"], float)
        pmf = np.zeros(vals.max() + 1)
        np.add.at(pmf, vals, probs)
        return pmf
    raise ParameterError(f"instance_path={path!r} is invalid: demand_distribution {dist!r} is not supported "
                         "(binomial, discrete_uniform, probability_mass_function)")


def write_reference_json(params: LotSizingParams, path: str) -> None:
    """Write the resolved instance in the reference JSON format (demand as a probability mass function)."""
    inst = params.instance()
    support = np.arange(inst.demand_pmf.shape[1])
    dists = [{"name": "probability_mass_function", "vals": support[r > 0].tolist(), "probs": r[r > 0].tolist()}
             for r in inst.demand_pmf]
    same = all(np.array_equal(inst.demand_pmf[0], r) for r in inst.demand_pmf)
    d = {"n_items": int(params.n_items), "n_machines": int(params.n_machines), "time_horizon": int(params.horizon),
         "machine_production": inst.production.tolist(), "setup_costs": inst.setup_cost.tolist(),
         "setup_loss": inst.setup_loss.tolist(), "max_inventory_level": inst.max_inventory.tolist(),
         "holding_costs": inst.holding.tolist(), "lost_sales_costs": inst.lost_sales.tolist(),
         "initial_inventory": inst.initial_inventory.tolist(), "initial_setup": inst.initial_setup.tolist(),
         "demand_distribution": dists[0] if same else dists}
    with open(path, "w") as fh:
        json.dump(d, fh, indent=1)


# -- presets --------------------------------------------------------------------------------------------
# Fixed generator seeds of the PDPPO-size presets (spec §3.2); the generated data ship in instances/.
PDPPO_SIZES = {"pdppo_15x5": (15, 5, 1505), "pdppo_20x10": (20, 10, 2010), "pdppo_25x10": (25, 10, 2510),
               "pdppo_25x15": (25, 15, 2515)}
TINY_T3 = dict(n_items=2, n_machines=1, horizon=3, machine_production=((3, 3),), max_inventory=(5, 5),
               initial_inventory=(0, 0), initial_setup=(0,), holding_costs=(0.1, 0.1), lost_sales_costs=(2, 2),
               demand_distribution="pmf", demand_pmf=(0.5, 0.5), setup_costs=((1, 1),), setup_loss=((1, 1),),
               random_reset=False)
TINY_VI = dict(TINY_T3, horizon=20, max_inventory=(10, 10), holding_costs=(1, 1), lost_sales_costs=(10, 20),
               demand_pmf=(0.341, 0.58, 0.079))
ESWA = dict(horizon=5, gen_production=(0, 4, 0.2), max_inventory=10, initial_inventory=0, holding_costs=0.1,
            gen_lost_sales=(1, 3, 0.5), demand_n=4, demand_p=0.4, gen_setup_costs=(1, 2, 0.2), setup_loss=1,
            initial_setup=0, random_reset=False)


def _presets() -> dict[str, dict[str, Any]]:
    p: dict[str, dict[str, Any]] = {}
    for name, (n_items, n_mach, seed) in PDPPO_SIZES.items():
        p[name] = dict(n_items=n_items, n_machines=n_mach, horizon=100, generator_seed=seed)
    p["tiny"] = dict(TINY_VI)
    p["tiny_2i1m_t3"] = dict(TINY_T3)
    p["tiny_2i1m_vi"] = dict(TINY_VI)
    for n_items in range(10, 101, 10):
        for n_mach in (2, 5, 10):
            p[f"eswa_t5_i{n_items}_m{n_mach}"] = dict(ESWA, n_items=n_items, n_machines=n_mach,
                                                      generator_seed=1000 * n_items + n_mach)
    return p


_PRESETS = _presets()
