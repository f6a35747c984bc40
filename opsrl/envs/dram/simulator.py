"""User-facing simulator API of the ``dram`` family: knob encoding, ``simulate`` and batched evaluation.

>>> from opsrl.envs.dram import simulate
>>> m = simulate("stream", {"page_policy": "Open", "request_buffer_size": 8})
>>> round(m["total_time_ns"], 3), round(m["energy_uj"], 3)
(50025.0, 85.109)

A configuration is the 10-knob vector of spec §2.2 in agent order, as indices (the ArchGym RL encoding,
MultiDiscrete [4,3,3,8,2,2,4,4,3,8]) or as a dict keyed by knob name with names or values
(``page_policy="Closed"``, ``request_buffer_size=64``). Knobs left out keep the reference configuration
(all zeros: Open, Fifo, Bankwise, RBS 1, Fifo, NoRefresh, 1, 1, Simple, MAT 1 — ArchGym's ``policy.json``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np

from opsrl.core.errors import ParameterError
from opsrl.envs.dram import dynamics as D
from opsrl.envs.dram.devices import Device, get_device
from opsrl.envs.dram.traces import DecodedTrace, Trace, as_trace, decode_trace

SIM_VERSION = "1"  # bump when the model changes: it keys the on-disk exhaustive caches

KNOBS: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("page_policy", ("Open", "OpenAdaptive", "Closed", "ClosedAdaptive")),
    ("scheduler", ("Fifo", "FrFcfsGrp", "FrFcfs")),
    ("scheduler_buffer", ("Bankwise", "ReadWrite", "Shared")),
    ("request_buffer_size", (1, 2, 4, 8, 16, 32, 64, 128)),
    ("resp_queue", ("Fifo", "Reorder")),
    ("refresh_policy", ("NoRefresh", "AllBank")),
    ("refresh_max_postponed", (1, 2, 4, 8)),
    ("refresh_max_pulledin", (1, 2, 4, 8)),
    ("arbiter", ("Simple", "Fifo", "Reorder")),
    ("max_active_transactions", (1, 2, 4, 8, 16, 32, 64, 128)),
)
KNOB_NAMES = tuple(k for k, _ in KNOBS)
NVEC = np.array([len(v) for _, v in KNOBS], dtype=np.int64)
N_CONFIGS = int(np.prod(NVEC))  # 442,368
REFERENCE_CONFIG = np.zeros(10, dtype=np.int64)
# DRAMSys fr_fcfs.json: Open, FrFcfs, Bankwise, RBS 8, Fifo, AllBank 8/8, Simple, MAT 128
EXPERT_CONFIG = np.array([0, 2, 0, 3, 0, 1, 3, 3, 0, 7], dtype=np.int64)

METRICS = ("total_time_ns", "mean_latency_ns", "p99_latency_ns", "energy_uj", "avg_power_mw")
PARALLEL_MIN_BATCH = 4


def encode_config(config: Any) -> np.ndarray:
    """Index vector (int64[10]) of a configuration given as an index vector or a ``{knob: value}`` dict."""
    if isinstance(config, Mapping):
        unknown = sorted(set(config) - set(KNOB_NAMES))
        if unknown:
            raise ParameterError(f"config has unknown knob(s) {unknown}; valid knobs: {list(KNOB_NAMES)}")
        out = REFERENCE_CONFIG.copy()
        for k, (name, values) in enumerate(KNOBS):
            if name not in config:
                continue
            v = config[name]
            matches = [i for i, x in enumerate(values)
                       if (isinstance(x, str) and isinstance(v, str) and x.lower() == v.lower())
                       or (not isinstance(x, str) and not isinstance(v, (str, bool)) and x == v)]
            if not matches:
                raise ParameterError(f"config {name}={v!r} is invalid: must be one of {list(values)}")
            out[k] = matches[0]
        return out
    arr = np.asarray(config)
    if arr.shape != (10,) or arr.dtype.kind not in "iuf" or not np.all(arr == np.round(arr)):
        raise ParameterError(f"config={config!r} is invalid: must be a dict keyed by {list(KNOB_NAMES)} "
                             "or 10 integer indices")
    arr = arr.astype(np.int64)
    if (arr < 0).any() or (arr >= NVEC).any():
        bad = int(np.argmax((arr < 0) | (arr >= NVEC)))
        raise ParameterError(f"config index {KNOB_NAMES[bad]}={int(arr[bad])} is invalid: must be in "
                             f"[0, {int(NVEC[bad]) - 1}]")
    return arr


def decode_config(index: Any) -> dict[str, Any]:
    """``{knob: value}`` of an index vector."""
    idx = encode_config(index)
    return {name: values[int(i)] for (name, values), i in zip(KNOBS, idx, strict=True)}


def canonicalize(actions: np.ndarray, read_only: bool = False) -> np.ndarray:
    """Collapse the structural no-ops of spec §2.2 (batch ``[B, 10]`` or one ``[10]``): MAT under the Simple
    arbiter and the refresh sub-knobs under NoRefresh are set to 0; on read-only traces also ReadWrite →
    Shared and FrFcfsGrp → FrFcfs. Canonical configurations behave identically to the originals."""
    a = np.array(actions, dtype=np.int64, copy=True)
    one = a.ndim == 1
    a = np.atleast_2d(a)
    a[a[:, D.K_ARBITER] == D.A_SIMPLE, D.K_MAT] = 0
    norefresh = a[:, D.K_REFRESH] == 0
    a[norefresh, D.K_POSTPONED] = 0
    a[norefresh, D.K_PULLEDIN] = 0
    if read_only:
        a[a[:, D.K_SBUF] == D.READWRITE, D.K_SBUF] = D.SHARED
        a[a[:, D.K_SCHED] == D.S_FRFCFS_GRP, D.K_SCHED] = D.S_FRFCFS
    return a[0] if one else a


def canonical_space(read_only: bool = False) -> np.ndarray:
    """Every canonical configuration once: 166,464 (73,984 on read-only traces), int64 ``[M, 10]``."""
    sched = (0, 2) if read_only else (0, 1, 2)
    sbuf = (0, 2) if read_only else (0, 1, 2)
    refresh = [(0, 0, 0)] + [(1, p, q) for p in range(4) for q in range(4)]
    arb = [(0, 0)] + [(a, m) for a in (1, 2) for m in range(8)]
    rows = [(pg, sc, sb, rb, rq, *rf, *am) for pg, sc, sb, rb, rq, rf, am in
            itertools.product(range(4), sched, sbuf, range(8), range(2), refresh, arb)]
    return np.array(rows, dtype=np.int64)


def config_ids(actions: np.ndarray) -> np.ndarray:
    """A unique integer per index vector (mixed radix over NVEC)."""
    a = np.atleast_2d(np.asarray(actions, dtype=np.int64))
    out = np.zeros(a.shape[0], dtype=np.int64)
    for k in range(10):
        out = out * NVEC[k] + a[:, k]
    return out


def run_records(dec: DecodedTrace, device: Device, actions: np.ndarray, parallel: bool | None = None,
                player_ps: int = 1250) -> np.ndarray:
    """Raw kernel records ``[B, RECORD_WIDTH]`` of index vectors ``actions[B, 10]`` (validated first)."""
    knobs = np.ascontiguousarray(np.atleast_2d(actions), dtype=np.int64)
    if knobs.ndim != 2 or knobs.shape[1] != 10:
        raise ParameterError(f"actions must have shape [B, 10]; got {knobs.shape}")
    if (knobs < 0).any() or (knobs >= NVEC).any():
        raise ParameterError(f"action index out of range: every row must be within {NVEC.tolist()}")
    out = np.zeros((knobs.shape[0], D.RECORD_WIDTH), dtype=np.float64)
    fn = D.simulate_parallel if (parallel if parallel is not None else knobs.shape[0] >= PARALLEL_MIN_BATCH) \
        else D.simulate_serial
    fn(dec.arrival_cycle, dec.arrival_ps, dec.bank, dec.row, dec.column, dec.is_write, dec.pair, dec.bank_group,
       device.timing_table(player_ps), knobs, out)
    bad = out[:, D.R_STATUS] != D.OK
    if bad.any():  # never silent: a status other than OK is a simulator defect, not a user error
        raise RuntimeError(f"DRAM simulator failed (status {int(out[bad][0, D.R_STATUS])}) on configuration "
                           f"{knobs[bad][0].tolist()}")
    return out


def metrics_from_records(rec: np.ndarray, device: Device, n_requests: int) -> dict[str, np.ndarray]:
    """Metrics (arrays over the batch) from kernel records: times in ns, energy in µJ, power in mW."""
    rec = np.atleast_2d(rec)
    tck = device.tck_ns
    cycles = rec[:, D.R_CYCLES]
    total_ns = cycles * tck
    active_ns = rec[:, D.R_ACTIVE] * tck
    e = device.command_energies_pj()
    bg_act, bg_pre = device.background_mw()
    energy_pj = (rec[:, D.R_ACT] * e["act"] + rec[:, D.R_PRE] * e["pre"] + rec[:, D.R_RD] * e["rd"]
                 + rec[:, D.R_WR] * e["wr"] + rec[:, D.R_REF] * e["ref"]
                 + bg_act * active_ns + bg_pre * (total_ns - active_ns))  # mW·ns = pJ
    return {
        "total_time_ns": total_ns,
        "mean_latency_ns": rec[:, D.R_LAT_MEAN_PS] / 1000.0,
        "p99_latency_ns": rec[:, D.R_LAT_P99_PS] / 1000.0,
        "energy_uj": energy_pj / 1e6,
        "avg_power_mw": energy_pj / total_ns,
        "service_latency_ns": rec[:, D.R_SERVICE_MEAN_PS] / 1000.0,
        "bandwidth_gbps": n_requests * 64 * 8 / total_ns,
        "total_cycles": cycles,
        "n_act": rec[:, D.R_ACT], "n_pre": rec[:, D.R_PRE], "n_rd": rec[:, D.R_RD], "n_wr": rec[:, D.R_WR],
        "n_ref": rec[:, D.R_REF],
        "row_hits": rec[:, D.R_HITS], "row_misses": rec[:, D.R_MISSES], "row_conflicts": rec[:, D.R_CONFLICTS],
        "active_time_ns": active_ns, "precharged_time_ns": total_ns - active_ns,
    }


def simulate(trace: Any, config: Any = None, memory: str = "DDR3-1600", *, n_requests: int | None = None,
             seed: int = 0, write_fraction: float | None = None) -> dict[str, Any]:
    """Run ``trace`` through one controller configuration on ``memory`` and return its metrics.

    Args:
        trace: a name (``"stream"``, ``"random"``, ``"cloud-1"``, ``"cloud-2"``, ``"random_rw"``, ``"copy"``, ...),
            an STL file path, a :class:`~opsrl.envs.dram.traces.Trace`, a 1-D array of byte addresses (reads, one
            per player cycle) or an ``[N, 3]`` array ``(cycle, is_write, address)``.
        config: ``{knob: value}`` (e.g. ``{"page_policy": "Closed", "request_buffer_size": 8}``) or 10 indices;
            ``None`` = the reference configuration.
        memory: ``"DDR3-1600"`` or ``"DDR4-2400"``.
        n_requests, seed, write_fraction: for generated traces.

    Returns:
        ``total_time_ns`` (makespan), ``mean_latency_ns``, ``p99_latency_ns``, ``energy_uj``, ``avg_power_mw``,
        plus ``service_latency_ns``, ``bandwidth_gbps``, command counters, row hits / misses / conflicts, and the
        active / precharged time.
    """
    device = get_device(memory)
    tr = as_trace(trace, n_requests=n_requests, seed=seed, write_fraction=write_fraction)
    idx = encode_config(REFERENCE_CONFIG if config is None else config)
    dec = decode_trace(tr, device)
    rec = run_records(dec, device, idx[None], parallel=False)
    m = metrics_from_records(rec, device, len(tr))
    out: dict[str, Any] = {k: float(v[0]) for k, v in m.items()}
    for k in ("total_cycles", "n_act", "n_pre", "n_rd", "n_wr", "n_ref", "row_hits", "row_misses", "row_conflicts"):
        out[k] = int(out[k])
    out["config"] = decode_config(idx)
    out["memory"] = device.name
    out["n_requests"] = len(tr)
    return out


class Evaluator:
    """Memoised batched evaluation of configurations on one (trace, device): the cost model of the envs and
    of the search baselines. Configurations are canonicalised first, so structurally equal ones share a
    simulation; ``calls`` counts configurations asked for, ``simulations`` the kernel runs actually made."""

    def __init__(self, trace: Trace, device: Device, cache: bool = True) -> None:
        self.trace = trace
        self.device = device
        self.dec = decode_trace(trace, device)
        self.read_only = trace.read_only
        self.cache = cache
        self._memo: dict[int, np.ndarray] = {}
        self.calls = 0
        self.simulations = 0

    @property
    def key(self) -> str:
        return self.dec.key

    def records(self, actions: np.ndarray) -> np.ndarray:
        a = canonicalize(np.atleast_2d(np.asarray(actions, dtype=np.int64)), self.read_only)
        self.calls += a.shape[0]
        if not self.cache:
            self.simulations += a.shape[0]
            return run_records(self.dec, self.device, a)
        ids = config_ids(a)
        todo = {int(i): row for i, row in zip(ids, a, strict=True) if int(i) not in self._memo}
        if todo:
            rec = run_records(self.dec, self.device, np.array(list(todo.values())))
            self.simulations += len(todo)
            for key, r in zip(todo, rec, strict=True):
                self._memo[key] = r
        return np.stack([self._memo[int(i)] for i in ids])

    def metrics(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        return metrics_from_records(self.records(actions), self.device, len(self.trace))
