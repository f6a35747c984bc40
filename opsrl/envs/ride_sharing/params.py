"""Parameters and presets of the ride-sharing dispatch family (``opsrl/RideSharing-v0``, spec
``ride_sharing.md`` §3).

Every field can be overridden on top of a preset: ``gym.make("opsrl/RideSharing-v0", preset="grid_small",
fleet_size=80)`` or ``opsrl eval ... --set fleet_size=80``. Units: seconds for times, km for distances,
km/h for speeds, orders per minute for arrival rates.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np

from opsrl.core.errors import fail, finite_array, one_of, require
from opsrl.core.params import Params

DEMANDS = ("synthetic", "scripted", "pyhailing", "tlc")
# Weekday hourly share (%) of Manhattan-internal trips, hours 0..23 (spec §2.2, pyhailing trips.csv).
HOURLY_SHARE = (2.157, 1.240, 0.767, 0.484, 0.440, 0.849, 2.479, 4.691, 5.993, 5.512, 4.631, 4.563, 4.698,
                4.662, 4.939, 5.094, 5.020, 6.208, 7.209, 6.888, 6.088, 5.804, 5.359, 4.225)
MAX_CAPACITY = 5  # drop-off orders are searched exhaustively: 5! = 120 permutations at most


def _int(field: str, value: Any, low: int) -> None:
    require(isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= low, field, value,
            f"must be an integer >= {low}")


@dataclasses.dataclass(frozen=True)
class RideParams(Params):
    """Parameters of one ride-sharing dispatch instance (spec §3)."""

    default_preset: ClassVar[str] = "grid_small"

    # -- city --------------------------------------------------------------------------------------------
    grid_cols: int = 4
    """Synthetic city: zones west–east (zone id = row·cols + col, row 0 at the south)."""
    grid_rows: int = 16
    """Synthetic city: zones south–north."""
    zone_w: float = 1.0
    """Zone width (km); the intra-zone distance is d_in = (w + h)/3, the mean L1 distance in a w×h box."""
    zone_h: float = 1.25
    """Zone height (km)."""
    speed_kmh: float = 20.0
    """Constant speed v0 (km/h); pyhailing demand uses its speed table instead."""
    point_mode: str = "centroid"
    """``centroid`` (OSPO parity: stops at zone centroids, a same-zone leg takes d_in) or
    ``uniform_in_zone`` (stops uniform in their zone's rectangle; point-to-point times)."""

    # -- fleet and clock ---------------------------------------------------------------------------------
    fleet_size: int = 1000
    """Number of vehicles V."""
    capacity: int = 3
    """Seats C per vehicle (1..5); a seat is reserved at assignment and freed at drop-off."""
    pooling: bool = True
    """True: a vehicle with free seats and no pending pickup is eligible; False: only empty vehicles."""
    epoch_s: int = 60
    """Decision epoch Δ (s)."""
    horizon_s: int = 1800
    """Episode length T_ep (s); K = T_ep/Δ epochs, then ``terminated``."""
    patience_s: int = 300
    """An order is visible for W = patience/Δ epochs, then lost."""
    max_orders: int = 1024
    """O_max: the oldest pending orders visible per epoch (the rest stays pending, counted in info)."""
    reveal: str = "floor"
    """``floor`` (OSPO: an order is seen at epoch ⌊t/Δ⌋) or ``ceil`` (strictly non-anticipative)."""
    init: str = "uniform_zone"
    """Vehicle start: ``uniform_zone`` or ``demand`` (∝ origin demand); ``initial_zones`` overrides both."""
    initial_zones: tuple[int, ...] | None = None
    """Fixed start zone of every vehicle (length ``fleet_size``), e.g. for golden tests."""
    drain: bool = False
    """At the end, finish every assigned trip (completes delivery metrics; rewards unchanged)."""

    # -- reward and matching -----------------------------------------------------------------------------
    reward_mode: str = "ospo"
    """``ospo``: r = β0 + β1·D − β2·ETA/60 − β3·N_late − β4·A/60 − β5·max(0, A − θ)/60 (minutes, km);
    ``platform``: r = 1 − λ_P·ETA/60 (λ_P = 0: the reward counts assignments)."""
    beta: tuple[float, ...] = (3.0, 1.0, 3.0, 1.0, 3.0, 5.0)
    """OSPO reward weights β0..β5."""
    late_threshold_min: float = 40.0
    """θ (minutes): a trip planned longer than this is late."""
    platform_eta_weight: float = 0.0
    """λ_P of the platform reward."""
    gamma: float = 0.99
    """Per-epoch discount of the ``ospo_return`` metric."""
    score_transform: str = "softmax"
    """``softmax`` (OSPO: row softmax over visible orders; every eligible vehicle is matched while orders
    remain) or ``identity`` (scores used as they are; a pair not worth more than θ0 is declined)."""
    no_order_value: float = 0.0
    """θ0: the value of leaving a vehicle without a new order."""
    matching_backend: str = "scipy"
    """``scipy`` (linear_sum_assignment), ``ortools_lsa`` or ``ortools_mcf`` (OR-tools, spec §5.2)."""
    post_decision: bool = True
    """Add ``info["post_decision_obs"]`` (the flat observation after matching, before vehicles move)."""

    # -- demand ------------------------------------------------------------------------------------------
    demand: str = "synthetic"
    """``synthetic`` (time-varying Poisson OD), ``scripted`` (``scripted_orders``), ``pyhailing`` (real
    Manhattan OD and speeds from the installed pyhailing CSVs) or ``tlc`` (your NYC TLC trip file)."""
    arrival_rate: float = 130.0
    """Λ (orders/min at the start hour) of synthetic demand; pyhailing demand is scaled to it too."""
    hub_strength: float = 3.0
    """η of the origin weights π_z ∝ 1 + η·exp(−(y_z − y_h)²/(2σ_h²))."""
    hub_y_km: float = 7.0
    hub_sigma_km: float = 3.0
    dest_length_km: float = 3.0
    """ℓ of the destination choice P(d|o) ∝ π_d·exp(−D(o,d)/ℓ)."""
    start_hour: float = 19.0
    """h0: clock time of t = 0 (hours); sets the time profile and the speed-table slot."""
    scripted_orders: tuple[tuple[float, int, int], ...] = ()
    """``scripted`` demand: (request time s, origin zone, destination zone) of every order."""
    sample_frac: float = 1.0
    """TLC demand: share of the window's trips kept at each reset (OSPO: 0.95)."""
    data_dir: str | None = None
    """pyhailing: folder holding ``trips.csv``, ``speeds.csv``, ``taxizones.geojson`` (default: the
    installed pyhailing distribution, found without importing it)."""
    pyhailing_dow: int = 2
    """pyhailing: day of week of the OD weights (0 = Monday .. 4 = Friday)."""
    requests_per_day: float | None = None
    """pyhailing: scale demand to this daily volume × the window's share (DIMACS sizes) instead of Λ."""
    tlc_file: str | None = None
    """TLC: a monthly trip file (.csv or .parquet) of yellow, green or FHVHV records."""
    tlc_zone_file: str | None = None
    """TLC: CSV with columns LocationID, lat, lon (optionally Borough: only Manhattan rows are kept)."""
    tlc_date: str | None = None
    """TLC: the day of the window, ``YYYY-MM-DD``; the window starts at ``start_hour``."""
    tlc_zone_km: float = 0.85
    """TLC: side (km) of the square each zone is taken to be (d_in = 2/3·side); √ of pyhailing's median
    zone area 0.70 km²."""

    def validate(self) -> None:
        for name in ("grid_cols", "grid_rows", "fleet_size", "epoch_s", "horizon_s", "patience_s", "max_orders"):
            _int(name, getattr(self, name), 1)
        _int("capacity", self.capacity, 1)
        require(self.capacity <= MAX_CAPACITY, "capacity", self.capacity, f"must be <= {MAX_CAPACITY}")
        _int("pyhailing_dow", self.pyhailing_dow, 0)
        require(self.pyhailing_dow <= 4, "pyhailing_dow", self.pyhailing_dow, "must be 0 (Mon) .. 4 (Fri)")
        require(self.horizon_s % self.epoch_s == 0, "horizon_s", self.horizon_s,
                f"must be a multiple of epoch_s={self.epoch_s}")
        require(self.patience_s % self.epoch_s == 0, "patience_s", self.patience_s,
                f"must be a multiple of epoch_s={self.epoch_s}")
        for name in ("zone_w", "zone_h", "speed_kmh", "dest_length_km", "hub_sigma_km", "tlc_zone_km"):
            finite_array(name, getattr(self, name), low=0.0, low_inclusive=False)
        for name in ("arrival_rate", "hub_strength", "late_threshold_min", "platform_eta_weight"):
            finite_array(name, getattr(self, name), low=0.0)
        finite_array("hub_y_km", self.hub_y_km)
        finite_array("no_order_value", self.no_order_value)
        finite_array("start_hour", self.start_hour, low=0.0)
        require(self.start_hour < 24, "start_hour", self.start_hour, "must be in [0, 24)")
        g = finite_array("gamma", self.gamma, low=0.0)
        require(g <= 1.0, "gamma", self.gamma, "must be in [0, 1]")
        s = finite_array("sample_frac", self.sample_frac, low=0.0, low_inclusive=False)
        require(s <= 1.0, "sample_frac", self.sample_frac, "must be in (0, 1]")
        beta = finite_array("beta", self.beta)
        require(beta.shape == (6,), "beta", self.beta, "must be 6 numbers (β0..β5)")
        one_of("point_mode", self.point_mode, ("centroid", "uniform_in_zone"))
        one_of("reveal", self.reveal, ("floor", "ceil"))
        one_of("init", self.init, ("uniform_zone", "demand"))
        one_of("reward_mode", self.reward_mode, ("ospo", "platform"))
        one_of("score_transform", self.score_transform, ("softmax", "identity"))
        one_of("matching_backend", self.matching_backend, ("scipy", "ortools_lsa", "ortools_mcf"))
        one_of("demand", self.demand, DEMANDS)
        if self.requests_per_day is not None:
            finite_array("requests_per_day", self.requests_per_day, low=0.0, low_inclusive=False)
        if self.initial_zones is not None:
            z = finite_array("initial_zones", self.initial_zones, low=0, integer=True)
            require(z.shape == (self.fleet_size,), "initial_zones", self.initial_zones,
                    f"must list one zone per vehicle (fleet_size={self.fleet_size})")
            if self.demand in ("synthetic", "scripted"):
                require(z.max() < self.n_grid_zones, "initial_zones", self.initial_zones,
                        f"zones must be < {self.n_grid_zones}")
        if self.demand == "scripted":
            require(len(self.scripted_orders) >= 1, "scripted_orders", self.scripted_orders,
                    "needs at least one (time, origin, destination) triple with demand='scripted'")
            for row in self.scripted_orders:
                ok = (len(row) == 3 and math.isfinite(float(row[0])) and 0 <= float(row[0]) < self.horizon_s
                      and all(float(v).is_integer() and 0 <= int(v) < self.n_grid_zones for v in row[1:]))
                if not ok:
                    fail("scripted_orders", row, f"each order must be (t in [0, {self.horizon_s}), origin, "
                         f"destination) with zones in [0, {self.n_grid_zones})")
        if self.demand == "tlc":
            for name in ("tlc_file", "tlc_zone_file", "tlc_date"):
                require(getattr(self, name) is not None, name, None, "is required with demand='tlc'")

    # -- derived -----------------------------------------------------------------------------------------
    @property
    def n_grid_zones(self) -> int:
        return self.grid_cols * self.grid_rows

    @property
    def epochs(self) -> int:
        """K = T_ep / Δ."""
        return self.horizon_s // self.epoch_s

    @property
    def patience_epochs(self) -> int:
        """W = patience / Δ."""
        return self.patience_s // self.epoch_s

    @classmethod
    def presets(cls) -> dict[str, dict[str, Any]]:
        return _PRESETS


GRID = dict(grid_cols=4, grid_rows=16, zone_w=1.0, zone_h=1.25)
_PRESETS: dict[str, dict[str, Any]] = {
    # golden tests (spec §5.4): a 1×16 line of 1 km squares, scripted orders (override them)
    "tiny_line_test": dict(grid_cols=16, grid_rows=1, zone_w=1.0, zone_h=1.0, fleet_size=2, horizon_s=600,
                           max_orders=16, demand="scripted", scripted_orders=((0.0, 2, 5), (10.0, 0, 5)),
                           initial_zones=(1, 3)),
    # a small town: 20 vehicles on a 4×4 grid
    "grid_town": dict(grid_cols=4, grid_rows=4, zone_w=1.0, zone_h=1.25, fleet_size=20, arrival_rate=3.0,
                      hub_y_km=2.5, hub_sigma_km=1.5, max_orders=64),
    "grid_small": dict(GRID, fleet_size=60, arrival_rate=8.0, max_orders=256),
    "grid_medium": dict(GRID, fleet_size=300, arrival_rate=40.0, max_orders=512),
    "grid_manhattan_1000": dict(GRID, fleet_size=1000, arrival_rate=130.0, max_orders=1024),
    "grid_manhattan_1000_nopool": dict(GRID, fleet_size=1000, capacity=1, arrival_rate=130.0, max_orders=1024),
    # real Manhattan OD and speeds; needs `pip install --no-deps pyhailing==0.0.9` (or data_dir=...)
    "pyhailing_evening_1000": dict(demand="pyhailing", fleet_size=1000, arrival_rate=130.0, pyhailing_dow=2),
    "pyhailing_mui_evening": dict(demand="pyhailing", fleet_size=100, requests_per_day=10_000.0, pyhailing_dow=2,
                                  max_orders=256),
}
# OSPO parity on your own TLC file (2024-07-17 was a Wednesday; spec §3): pass tlc_file and tlc_zone_file
_TLC = dict(demand="tlc", fleet_size=1000, sample_frac=0.95, tlc_date="2024-07-17", max_orders=1024)
_PRESETS["tlc_ospo_train"] = dict(_TLC, start_hour=19.0)
for _h in (14, 17, 20, 21, 22):
    _PRESETS[f"tlc_ospo_test_h{_h}"] = dict(_TLC, start_hour=float(_h))
