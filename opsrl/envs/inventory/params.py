"""Parameters and presets of the inventory-network family (``opsrl/InventoryNetwork-v0``).

Every field can be overridden on top of a preset: ``gym.make(id, preset="serial_4", underage_cost=19)``
or ``opsrl eval ... --set underage_cost=19``. Per-store fields take a scalar (all stores alike) or a list
with one value per store. Multi-store presets draw per-store primitives once per instance from the
``*_range`` fields with fixed seeds (the seeds of the reference code, spec §2.6), so ``n_stores`` can be
overridden and the instance stays reproducible.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from opsrl.core.errors import fail, finite_array, one_of, per_item, require
from opsrl.core.params import Params

DEMAND_KINDS = ("normal", "poisson", "series")
# Seeds of the reference instance generator (spec §2.6).
SEED_UNDERAGE, SEED_HOLDING, SEED_MEAN, SEED_CV, SEED_LEAD = 28, 73, 33, 92, 41

Scalar = float | int
PerStore = Scalar | tuple[Scalar, ...]


@dataclasses.dataclass(frozen=True)
class InventoryParams(Params):
    """Parameters of one inventory network (spec ``inventory.md`` §3.1)."""

    default_preset: ClassVar[str] = "one_store_backlogged"

    n_stores: int = 1
    """Number of stores facing demand."""
    lead_time: PerStore = 4
    """Store lead time(s) ℓ ≥ 1 from the store's supplier (external supplier or warehouse), in periods."""
    holding_cost: PerStore = 1.0
    """Store holding cost h per unit of post-demand stock."""
    underage_cost: PerStore = 9.0
    """Store shortage cost p per unit short (backlog: charged on the whole backlog every period).
    In profit mode, the unit margin."""
    lost_demand: bool = False
    """True: unmet demand is lost; False: it is backlogged."""
    maximize_profit: bool = False
    """Profit mode (real data): reward = p·sales − h·leftover instead of −cost. Needs lost sales."""

    demand_distribution: str = "normal"
    """``normal`` (multivariate, correlation ``demand_correlation``), ``poisson`` or ``series``."""
    demand_mean: PerStore = 5.0
    demand_std: PerStore = 1.6
    """Std of normal demand (ignored for Poisson, whose std is √μ)."""
    demand_correlation: float = 0.0
    """ρ ∈ [0, 1): Cov_ij = ρ σ_i σ_j between stores (normal demand)."""
    demand_clip: bool = True
    """Clip normal demand at 0 (the transshipment preset does not)."""
    demand_mean_range: tuple[float, float] | None = None
    """If set, per-store means are drawn U[a, b] (rounded to 3 decimals) with seed 33."""
    demand_cv_range: tuple[float, float] | None = None
    """If set, per-store σ_i = μ_i·CV_i with CV_i ~ U[a, b] (rounded to 3 decimals) with seed 92."""
    demand_series: Any = dataclasses.field(default=None, compare=False, repr=False)
    """``series`` demand: an array [n_series, n_stores, n_periods] or a path to a ``.npy`` / ``.csv``
    file (CSV: one row per series and store, ``n_stores`` consecutive rows per series)."""

    holding_cost_range: tuple[float, float] | None = None
    """If set, per-store h ~ U[a, b] with seed 73."""
    underage_cost_range: tuple[float, float] | None = None
    """If set, per-store p ~ U[a, b] with seed 28."""
    lead_time_range: tuple[int, int] | None = None
    """If set, per-store lead times ~ U{a..b} with seed 41."""

    n_warehouses: int = 0
    """0: stores order from the external supplier. ≥ 1: stores order from warehouses (per ``adjacency``)."""
    warehouse_holding_cost: PerStore = 0.3
    warehouse_lead_time: PerStore = 3
    """Lead time from the external supplier (or the last echelon) to each warehouse."""
    warehouse_edge_cost: PerStore = 0.0
    """Procurement cost per unit a warehouse orders from its supplier."""
    warehouse_holds_stock: bool = True
    """False: a transshipment center — it ships all its on-hand stock every period."""
    adjacency: tuple[tuple[int, ...], ...] | None = None
    """0/1 matrix [n_warehouses, n_stores] of warehouse→store edges; ``None`` = every pair."""
    edge_lead_time: tuple[tuple[int, ...], ...] | None = None
    """Lead time per warehouse→store edge [n_warehouses, n_stores]; ``None`` = the store's ``lead_time``."""

    echelon_holding_cost: tuple[float, ...] = ()
    """Serial chains: holding cost of each upstream echelon, listed from the most upstream."""
    echelon_lead_time: tuple[int, ...] = ()
    """Serial chains: lead time into each echelon (the first from the external supplier)."""

    horizon: int = 100
    """Periods per episode (truncation); no termination otherwise."""
    warmup: int = 60
    """Periods excluded from the reported cost (evaluation only; rewards are paid every period)."""
    inventory_periods: int = 4
    """Minimum length K of each node's inventory vector (on-hand + pipeline slots)."""
    initial_inventory: str = "uniform"
    """``uniform``: every slot of every store ~ U(0, 1)·μ_store, upstream nodes empty; ``zero``."""
    max_order: float | None = None
    """Orders above this are clipped. ``None``: 4·(μ + σ) of the per-period demand served through the edge
    (four periods of demand at once: never binding in steady state, and a sensible scale for policies
    that explore the action box)."""
    post_decision: bool = False
    """Add ``info["post_decision_obs"]``: each node's inventory right after the orders, before demand
    (on-hand after shipments, slot k = arriving in k periods incl. this period's orders; K+1 slots),
    then the static features. Off by default: demand is the only randomness, so only post-decision
    critics (PDPPO) need it, and it costs about a third of a batched step."""
    observe_params: bool = False
    """Append static features (h, p, lead times, μ, σ, warehouse costs) to the flat observation."""

    @classmethod
    def presets(cls) -> dict[str, dict[str, Any]]:
        return _PRESETS

    def validate(self) -> None:
        require(isinstance(self.n_stores, (int, np.integer)) and self.n_stores >= 1,
                "n_stores", self.n_stores, "must be an integer >= 1")
        require(isinstance(self.n_warehouses, (int, np.integer)) and self.n_warehouses >= 0,
                "n_warehouses", self.n_warehouses, "must be an integer >= 0")
        one_of("demand_distribution", self.demand_distribution, DEMAND_KINDS)
        one_of("initial_inventory", self.initial_inventory, ("uniform", "zero"))
        require(0.0 <= self.demand_correlation < 1.0, "demand_correlation", self.demand_correlation,
                "must be in [0, 1)")
        require(isinstance(self.horizon, (int, np.integer)) and self.horizon >= 1, "horizon", self.horizon,
                "must be an integer >= 1")
        require(isinstance(self.warmup, (int, np.integer)) and 0 <= self.warmup < self.horizon,
                "warmup", self.warmup, f"must be an integer in [0, horizon={self.horizon})")
        require(isinstance(self.inventory_periods, (int, np.integer)) and self.inventory_periods >= 1,
                "inventory_periods", self.inventory_periods, "must be an integer >= 1")
        require(not self.maximize_profit or self.lost_demand, "maximize_profit", self.maximize_profit,
                "profit mode needs lost_demand=True")
        if self.max_order is not None:
            finite_array("max_order", self.max_order, low=0.0, low_inclusive=False)
        require(len(self.echelon_holding_cost) == len(self.echelon_lead_time), "echelon_lead_time",
                self.echelon_lead_time, f"needs one entry per echelon ({len(self.echelon_holding_cost)})")
        require(not self.echelon_holding_cost or (self.n_warehouses == 1 and self.n_stores == 1),
                "echelon_holding_cost", self.echelon_holding_cost,
                "echelons need a serial chain: n_warehouses=1 and n_stores=1")
        require(self.warehouse_holds_stock or self.n_warehouses == 1, "warehouse_holds_stock",
                self.warehouse_holds_stock, "a transshipment center needs n_warehouses=1")
        for name in ("demand_mean_range", "demand_cv_range", "holding_cost_range", "underage_cost_range",
                     "lead_time_range"):
            value = getattr(self, name)
            if value is not None:
                arr = finite_array(name, value, low=0.0)
                require(arr.shape == (2,) and arr[0] <= arr[1], name, value, "must be a pair (low, high), low <= high")
        # Resolving the store primitives runs every remaining check (shapes, signs, lead times >= 1).
        self.store_primitives()
        if self.demand_distribution == "series":
            self.series()

    # -- resolved per-store values ---------------------------------------------------------------------
    def store_primitives(self) -> dict[str, np.ndarray]:
        """Per-store arrays: ``mean``, ``std``, ``holding``, ``underage``, ``lead`` (see class docs)."""
        n = self.n_stores
        if self.demand_mean_range is not None:
            mean = np.random.RandomState(SEED_MEAN).uniform(*self.demand_mean_range, n).round(3)
        else:
            mean = per_item("demand_mean", self.demand_mean, n, low=0.0)
        if self.demand_cv_range is not None:
            std = (mean * np.random.RandomState(SEED_CV).uniform(*self.demand_cv_range, n)).round(3)
        else:
            std = per_item("demand_std", self.demand_std, n, low=0.0)
        if self.demand_distribution == "poisson":  # the std is the distribution's, not a free parameter
            std = np.sqrt(mean)
        if self.holding_cost_range is not None:
            holding = np.random.RandomState(SEED_HOLDING).uniform(*self.holding_cost_range, n)
        else:
            holding = per_item("holding_cost", self.holding_cost, n, low=0.0)
        if self.underage_cost_range is not None:
            underage = np.random.RandomState(SEED_UNDERAGE).uniform(*self.underage_cost_range, n)
        else:
            underage = per_item("underage_cost", self.underage_cost, n, low=0.0)
        if self.lead_time_range is not None:
            lo, hi = (int(v) for v in self.lead_time_range)
            require(lo >= 1, "lead_time_range", self.lead_time_range, "lead times must be >= 1")
            lead = np.random.RandomState(SEED_LEAD).randint(lo, hi + 1, n).astype(np.int64)
        else:
            lead = per_item("lead_time", self.lead_time, n, low=1, integer=True)
        return {"mean": mean, "std": std, "holding": holding, "underage": underage, "lead": lead}

    def series(self) -> np.ndarray:
        """The user-supplied demand series as float64 [n_series, n_stores, n_periods]."""
        src = self.demand_series
        if src is None:
            fail("demand_series", src, "is required when demand_distribution='series'")
        if isinstance(src, str):
            if src.endswith(".npy"):
                arr = np.load(src, allow_pickle=False)
            elif src.endswith(".csv"):
                arr = np.loadtxt(src, delimiter=",", ndmin=2)
                if arr.shape[0] % self.n_stores:
                    fail("demand_series", src, f"CSV rows must be a multiple of n_stores={self.n_stores}")
                arr = arr.reshape(-1, self.n_stores, arr.shape[1])
            else:
                fail("demand_series", src, "must be a .npy or .csv path, or an array")
        else:
            arr = np.asarray(src, dtype=np.float64)
        if arr.ndim != 3 or arr.shape[1] != self.n_stores or arr.shape[2] < self.horizon:
            fail("demand_series", f"array of shape {arr.shape}",
                 f"must have shape [n_series, n_stores={self.n_stores}, n_periods>=horizon={self.horizon}]")
        finite_array("demand_series", arr, low=0.0)
        return arr.astype(np.float64)


# -- presets -------------------------------------------------------------------------------------------
ONE_STORE_BACKLOG = dict(demand_mean=5.0, demand_std=1.6, holding_cost=1.0, lost_demand=False)
ONE_STORE_LOST = dict(demand_distribution="poisson", demand_mean=5.0, holding_cost=1.0, lost_demand=True)
ECHELON_H = (0.1, 0.2, 0.25, 0.3, 0.4)
ECHELON_L = (2, 4, 1, 3, 2)
MULTI_STORE = dict(demand_mean_range=(2.5, 7.5), demand_cv_range=(0.25, 0.5), demand_correlation=0.5,
                   observe_params=True)
ONE_WAREHOUSE = dict(**MULTI_STORE, lost_demand=True, n_warehouses=1, warehouse_holding_cost=0.3,
                     warehouse_lead_time=3, holding_cost_range=(0.7, 1.3), underage_cost_range=(6.3, 11.7),
                     lead_time_range=(2, 3))
TRANSSHIPMENT = dict(**MULTI_STORE, demand_clip=False, lost_demand=False, n_warehouses=1,
                     warehouse_holds_stock=False, warehouse_holding_cost=0.5, warehouse_lead_time=3,
                     holding_cost=1.0)


def serial_preset(n_locations: int) -> dict[str, Any]:
    k = n_locations - 2
    return dict(demand_mean=5.0, demand_std=2.0, lost_demand=False, holding_cost=1.0, underage_cost=9.0,
                lead_time=4, n_warehouses=1, warehouse_holding_cost=0.5, warehouse_lead_time=3,
                echelon_holding_cost=ECHELON_H[:k], echelon_lead_time=ECHELON_L[:k])


# The reference's two-warehouse, ten-store instance (spec §3.2): warehouse 0 cheap and slow, 1 fast.
W2_S10_ADJACENCY = ((0, 0, 1, 1, 1, 0, 1, 1, 1, 0), (1, 1, 1, 1, 1, 1, 0, 1, 1, 1))
W2_S10_LEADS = ((6, 6, 6, 6, 6, 6, 6, 5, 6, 6), (2, 1, 2, 2, 1, 2, 2, 2, 2, 2))


def many_warehouses_preset(n_warehouses: int, n_stores: int) -> dict[str, Any]:
    """Sparse warehouse→store networks: cheap warehouses are slow, expensive ones fast (spec §3.2).

    ``w2_s10`` is the reference instance. Larger sizes are drawn with a fixed seed per size (the
    reference matrices are not reproduced): warehouse 0 cheap and slow (lead times 5–6), warehouse 1
    expensive and fast (1–2), the others in between (3–6). Entries of ``edge_lead_time`` where there is no
    edge are ignored.
    """
    if (n_warehouses, n_stores) == (2, 10):
        adjacency, leads = np.array(W2_S10_ADJACENCY), np.array(W2_S10_LEADS)
    else:
        rs = np.random.RandomState(1000 * n_warehouses + n_stores)
        adjacency = (rs.uniform(size=(n_warehouses, n_stores)) < 0.6).astype(int)
        for s in np.flatnonzero(adjacency.sum(0) == 0):  # every store needs a warehouse
            adjacency[rs.randint(n_warehouses), s] = 1
        lead_lo, lead_hi = [5, 1] + [3] * (n_warehouses - 2), [6, 2] + [6] * (n_warehouses - 2)
        leads = np.stack([rs.randint(lead_lo[w], lead_hi[w] + 1, n_stores) for w in range(n_warehouses)])
    holding = ([0.3, 0.4, 0.2] + [0.3] * n_warehouses)[:n_warehouses]
    edge_cost = ([0.5, 1.5, 0.7] + [1.0] * n_warehouses)[:n_warehouses]
    base = {k: v for k, v in ONE_WAREHOUSE.items() if k not in ("lead_time_range",)}
    return dict(base, n_stores=n_stores, n_warehouses=n_warehouses, warehouse_holding_cost=tuple(holding),
                warehouse_edge_cost=tuple(edge_cost), warehouse_lead_time=3,
                adjacency=tuple(map(tuple, adjacency.tolist())),
                edge_lead_time=tuple(map(tuple, leads.tolist())), inventory_periods=6)


def _presets() -> dict[str, dict[str, Any]]:
    p: dict[str, dict[str, Any]] = {
        "one_store_backlogged": dict(ONE_STORE_BACKLOG, lead_time=4, underage_cost=9.0),
        "one_store_lost_sales": dict(ONE_STORE_LOST, lead_time=3, underage_cost=9.0),
        "serial": serial_preset(4),
        "one_warehouse": dict(ONE_WAREHOUSE, n_stores=3),
        "transshipment": dict(TRANSSHIPMENT, n_stores=3, lead_time=2, underage_cost=4.0),
        "many_warehouses": many_warehouses_preset(2, 10),
    }
    for L in (1, 4, 7, 10, 15, 20):
        for pc in (4, 9, 19, 39):
            p[f"one_store_backlogged_L{L}_p{pc}"] = dict(ONE_STORE_BACKLOG, lead_time=L, underage_cost=float(pc))
    for L in (1, 2, 3, 4):
        for pc in (4, 9, 19, 39):
            p[f"one_store_lost_L{L}_p{pc}"] = dict(ONE_STORE_LOST, lead_time=L, underage_cost=float(pc))
    for n in (3, 5, 10, 20, 30, 50):
        p[f"independent_stores_lost_n{n}"] = dict(ONE_STORE_LOST, n_stores=n, lead_time=3, underage_cost=9.0)
    for n in (3, 4, 5, 6, 7):
        p[f"serial_{n}"] = serial_preset(n)
    for n in (3, 5, 10, 20, 30, 50):
        p[f"one_warehouse_lost_n{n}"] = dict(ONE_WAREHOUSE, n_stores=n)
    for n in (3, 5, 10):
        for L in (2, 6):
            for pc in (4, 9):
                p[f"transshipment_n{n}_L{L}_p{pc}"] = dict(TRANSSHIPMENT, n_stores=n, lead_time=L,
                                                          underage_cost=float(pc))
    for w, s in ((2, 10), (3, 20), (4, 30), (5, 40), (6, 50)):
        p[f"many_warehouses_w{w}_s{s}"] = many_warehouses_preset(w, s)
    return p


_PRESETS = _presets()

