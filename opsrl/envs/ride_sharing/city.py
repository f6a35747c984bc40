"""The city (zones, travel times) and the demand model of a ride-sharing instance (spec §2.1–§2.2).

A :class:`City` is plain arrays: zone centroids and sizes in a km frame whose axes follow the streets,
a speed table ``speed[slot, from_zone, to_zone]`` (km/h, one slot for the constant-speed model), and the
4-neighbour (or shared-boundary) zone adjacency of the graph view. A :class:`Demand` is either a
time-varying Poisson OD model — the expected orders of each one-minute bin and the OD distribution of the
15-minute slot it falls in — or a fixed list of trips (scripted, or a TLC day) that is subsampled at
reset. :func:`sample_orders` draws whole episodes of orders from the env's generator at ``reset``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from opsrl.envs.ride_sharing.params import HOURLY_SHARE, RideParams

SLOT_S = 900.0  # speed-table and OD slots are 15 minutes


@dataclasses.dataclass(frozen=True)
class City:
    centroid: np.ndarray  # float64 [Z, 2] km
    d_in: np.ndarray  # float64 [Z] intra-zone distance (km)
    half: np.ndarray  # float64 [Z, 2] half width/height of the box stops are drawn from (uniform mode)
    speed: np.ndarray  # float64 [S, Z, Z] km/h; S = 1 (constant) or 96 (15-min slots of the day)
    bbox: np.ndarray  # float64 [4]: xmin, xmax, ymin, ymax
    adjacency: np.ndarray  # int64 [2, E] directed zone pairs (both directions)
    zone_ids: np.ndarray  # int64 [Z] external ids (TLC LocationID; the index for synthetic cities)
    slot_len: float = SLOT_S

    @property
    def n_zones(self) -> int:
        return self.centroid.shape[0]

    def zone_table(self) -> np.ndarray:
        """float64 [Z, 5]: cx, cy, d_in, half_w, half_h (the kernels' packed zone table)."""
        return np.ascontiguousarray(np.column_stack([self.centroid, self.d_in, self.half]))

    def distance(self) -> np.ndarray:
        """D[z, z'] = L1 distance between centroids, d_in on the diagonal (spec §2.1)."""
        c = self.centroid
        d = np.abs(c[:, None, 0] - c[None, :, 0]) + np.abs(c[:, None, 1] - c[None, :, 1])
        d[np.diag_indices_from(d)] = self.d_in
        return d


@dataclasses.dataclass(frozen=True)
class Demand:
    kind: str  # "poisson" or "trips"
    minute_rate: np.ndarray | None = None  # float64 [bins] expected orders per one-minute bin
    minute_slot: np.ndarray | None = None  # int64 [bins] row of od_cdf used in each bin
    od_cdf: np.ndarray | None = None  # float64 [slots, Z*Z] cumulative OD distribution
    trips: np.ndarray | None = None  # float64 [n, 3] (t, origin, destination) for "trips"
    sample_frac: float = 1.0
    origin_weight: np.ndarray | None = None  # float64 [Z] origin demand of the first 15 min (init="demand")

    @property
    def expected_orders(self) -> float:
        if self.kind == "poisson":
            return float(self.minute_rate.sum())
        return float(len(self.trips) * self.sample_frac)

    def capacity(self) -> int:
        """Fixed size of the per-episode order arrays (the vector env resets rows in place). A Poisson
        total exceeds mean + 10·sd + 20 with probability far below 1e-20."""
        if self.kind == "poisson":
            m = self.expected_orders
            return max(1, int(math.ceil(m + 10.0 * math.sqrt(m) + 20.0)))
        return max(1, int(math.ceil(len(self.trips) * self.sample_frac)))


# -- synthetic city and demand (spec §2.1–2.2) ---------------------------------------------------------
def grid_city(p: RideParams) -> City:
    cols, rows, w, h = p.grid_cols, p.grid_rows, float(p.zone_w), float(p.zone_h)
    z = np.arange(cols * rows)
    col, row = z % cols, z // cols
    centroid = np.column_stack([(col + 0.5) * w, (row + 0.5) * h]).astype(np.float64)
    d_in = np.full(z.size, (w + h) / 3.0)
    half = np.tile([w / 2.0, h / 2.0], (z.size, 1))
    speed = np.full((1, z.size, z.size), float(p.speed_kmh))
    src, dst = [], []
    for a in z:
        for b in (a + 1 if col[a] + 1 < cols else -1, a + cols if row[a] + 1 < rows else -1):
            if b >= 0:
                src += [a, b]
                dst += [b, a]
    return City(centroid, d_in, half, speed, np.array([0.0, cols * w, 0.0, rows * h]),
                np.array([src, dst], dtype=np.int64).reshape(2, -1), z.astype(np.int64))


def hourly_profile(hour: np.ndarray | float) -> np.ndarray:
    """g(hour): periodic linear interpolation of the hourly shares placed at hour midpoints h + 0.5."""
    x = np.asarray(hour, dtype=np.float64)
    knots = np.arange(24) + 0.5
    share = np.asarray(HOURLY_SHARE)
    return np.interp(np.mod(x - 0.5, 24.0) + 0.5, np.append(knots, 24.5), np.append(share, share[0]))


def time_profile(p: RideParams, t_s: np.ndarray) -> np.ndarray:
    """f(t) = g(h0 + t/3600) / g(h0)."""
    return hourly_profile(p.start_hour + np.asarray(t_s) / 3600.0) / hourly_profile(p.start_hour)


def origin_weights(p: RideParams, city: City) -> np.ndarray:
    """π_z ∝ 1 + η·exp(−(y_z − y_h)²/(2σ_h²)), normalised."""
    y = city.centroid[:, 1]
    w = 1.0 + p.hub_strength * np.exp(-((y - p.hub_y_km) ** 2) / (2.0 * p.hub_sigma_km**2))
    return w / w.sum()


def od_weights(p: RideParams, city: City) -> np.ndarray:
    """J[o, d] = π_o · P(d|o) with P(d|o) ∝ π_d·exp(−D(o,d)/ℓ)."""
    pi = origin_weights(p, city)
    cond = pi[None, :] * np.exp(-city.distance() / p.dest_length_km)
    cond /= cond.sum(axis=1, keepdims=True)
    return pi[:, None] * cond


def synthetic_demand(p: RideParams, city: City) -> Demand:
    bins = int(math.ceil(p.horizon_s / 60.0))
    rate = p.arrival_rate * time_profile(p, 60.0 * np.arange(bins) + 30.0)
    J = od_weights(p, city)
    cdf = np.cumsum(J.ravel())
    cdf /= cdf[-1]
    return Demand("poisson", rate, np.zeros(bins, dtype=np.int64), cdf[None, :], origin_weight=J.sum(1))


def scripted_demand(p: RideParams) -> Demand:
    trips = np.array(p.scripted_orders, dtype=np.float64).reshape(-1, 3)
    trips = trips[np.argsort(trips[:, 0], kind="stable")]
    w = np.bincount(trips[:, 1].astype(np.int64), minlength=p.n_grid_zones).astype(np.float64)
    return Demand("trips", trips=trips, sample_frac=1.0, origin_weight=w / w.sum())


def build(p: RideParams) -> tuple[City, Demand]:
    """The city and demand model of ``p`` (reads data files for pyhailing and TLC demand)."""
    if p.demand == "synthetic":
        city = grid_city(p)
        return city, synthetic_demand(p, city)
    if p.demand == "scripted":
        return grid_city(p), scripted_demand(p)
    from opsrl.envs.ride_sharing import data

    if p.demand == "pyhailing":
        return data.pyhailing_instance(p)
    return data.tlc_instance(p)


# -- sampling at reset ---------------------------------------------------------------------------------
def sample_orders(p: RideParams, city: City, demand: Demand, n_cap: int, batch: int,
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Whole episodes of orders, sorted by request time (so index order is FCFS), padded to ``n_cap``.

    Returns ``t`` [B, N] request times (s), ``z`` [B, N, 2] origin/destination zones, ``pt`` [B, N, 4]
    pickup and drop-off points, ``b`` [B, N] reveal epochs, ``n`` [B] counts. Orders revealed at or after
    the last epoch are not generated (spec §2.8).
    """
    Z = city.n_zones
    t = np.zeros((batch, n_cap))
    z = np.zeros((batch, n_cap, 2), dtype=np.int64)
    pt = np.zeros((batch, n_cap, 4))
    rev = np.full((batch, n_cap), np.iinfo(np.int64).max // 4, dtype=np.int64)
    n = np.zeros(batch, dtype=np.int64)
    for b in range(batch):
        if demand.kind == "poisson":
            counts = rng.poisson(demand.minute_rate)
            tt = np.repeat(60.0 * np.arange(counts.size), counts) + 60.0 * rng.random(counts.sum())
            tt = np.sort(tt)  # bins are in order; sorting also orders each bin
            slot = np.repeat(demand.minute_slot, counts)
            cell = np.empty(tt.size, dtype=np.int64)
            u = rng.random(tt.size)
            for s in np.unique(slot):
                sel = slot == s
                cell[sel] = np.minimum(np.searchsorted(demand.od_cdf[s], u[sel], side="right"), Z * Z - 1)
            o, d = cell // Z, cell % Z
        else:
            trips = demand.trips
            if demand.sample_frac < 1.0:
                keep = np.sort(rng.choice(len(trips), size=int(math.ceil(len(trips) * demand.sample_frac)),
                                          replace=False))
                trips = trips[keep]
            tt, o, d = trips[:, 0], trips[:, 1].astype(np.int64), trips[:, 2].astype(np.int64)
        tt = tt[tt < p.horizon_s]
        o, d = o[: tt.size], d[: tt.size]
        epoch = np.floor(tt / p.epoch_s) if p.reveal == "floor" else np.ceil(tt / p.epoch_s)
        ok = epoch < p.epochs
        tt, o, d, epoch = tt[ok][:n_cap], o[ok][:n_cap], d[ok][:n_cap], epoch[ok][:n_cap]
        m = tt.size
        n[b] = m
        t[b, :m], z[b, :m, 0], z[b, :m, 1], rev[b, :m] = tt, o, d, epoch.astype(np.int64)
        pt[b, :m, 0:2] = city.centroid[o]
        pt[b, :m, 2:4] = city.centroid[d]
        if p.point_mode == "uniform_in_zone":
            pt[b, :m, 0:2] += (2.0 * rng.random((m, 2)) - 1.0) * city.half[o]
            pt[b, :m, 2:4] += (2.0 * rng.random((m, 2)) - 1.0) * city.half[d]
    return {"t": t, "z": z, "pt": pt, "b": rev, "n": n}


def sample_vehicles(p: RideParams, city: City, demand: Demand, batch: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Start zones [B, V] and positions [B, V, 2] of the fleet (spec §2.8)."""
    V, Z = p.fleet_size, city.n_zones
    if p.initial_zones is not None:
        zones = np.broadcast_to(np.asarray(p.initial_zones, dtype=np.int64), (batch, V)).copy()
    elif p.init == "demand" and demand.origin_weight is not None:
        cdf = np.cumsum(demand.origin_weight)
        zones = np.minimum(np.searchsorted(cdf / cdf[-1], rng.random((batch, V)), side="right"), Z - 1)
    else:
        zones = rng.integers(0, Z, size=(batch, V))
    pos = city.centroid[zones].copy()
    if p.point_mode == "uniform_in_zone" and p.initial_zones is None:
        pos += (2.0 * rng.random((batch, V, 2)) - 1.0) * city.half[zones]
    return zones.astype(np.int64), pos
