"""Hypothesis invariants of the simulator: bounds, conservation of requests, energy accounting, the structural
no-ops of spec §2.2 (bitwise equal metrics) and determinism, over random configurations and traces."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsrl.envs.dram import canonicalize, make_trace
from opsrl.envs.dram import dynamics as D
from opsrl.envs.dram.devices import DDR3_1600, DDR4_2400
from opsrl.envs.dram.simulator import NVEC, metrics_from_records, run_records
from opsrl.envs.dram.traces import decode_trace

N = 600
TRACES = {(name, dev.name): (make_trace(name, n_requests=N, seed=7), dev)
          for name in ("stream", "random", "cloud1", "random_rw", "copy") for dev in (DDR3_1600, DDR4_2400)}
DECODED = {k: decode_trace(tr, dev) for k, (tr, dev) in TRACES.items()}

configs = st.lists(st.integers(0, 7), min_size=10, max_size=10).map(lambda v: np.minimum(np.array(v), NVEC - 1))
keys = st.sampled_from(sorted(TRACES))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def records(key, actions):
    tr, dev = TRACES[key]
    return run_records(DECODED[key], dev, np.atleast_2d(actions), parallel=False)


@SETTINGS
@given(keys, configs)
def test_invariants(key, cfg):
    tr, dev = TRACES[key]
    rec = records(key, cfg)[0]
    m = {k: v[0] for k, v in metrics_from_records(rec[None], dev, N).items()}
    assert rec[D.R_STATUS] == D.OK
    assert rec[D.R_RD] == N - tr.n_writes and rec[D.R_WR] == tr.n_writes  # every request served once
    assert rec[D.R_HITS] + rec[D.R_MISSES] + rec[D.R_CONFLICTS] == N
    assert rec[D.R_CYCLES] >= dev.data_bus_bound_cycles(N) - (dev.timing["RL"] - dev.timing["WL"])
    assert rec[D.R_PRE] <= rec[D.R_ACT] <= rec[D.R_PRE] + dev.n_banks  # each ACT closed once, except the last
    assert rec[D.R_ACT] >= rec[D.R_MISSES] + rec[D.R_CONFLICTS]
    assert 0 <= rec[D.R_ACTIVE] <= rec[D.R_CYCLES]
    bg_min = min(dev.background_mw()) * m["total_time_ns"]
    assert m["energy_uj"] * 1e6 >= bg_min
    assert m["mean_latency_ns"] >= m["service_latency_ns"] > 0  # acceptance never precedes the player issue
    t = dev.timing
    assert m["p99_latency_ns"] >= (min(t["RL"], t["WL"]) + 4) * dev.tck_ns  # at least one data burst
    last_arrival = tr.cycle[-1] * 1.25
    assert m["total_time_ns"] >= last_arrival
    if cfg[D.K_REFRESH] == 0:
        assert rec[D.R_REF] == 0


@SETTINGS
@given(keys, configs, st.integers(0, 7), st.integers(0, 3), st.integers(0, 3))
def test_structural_noops_are_bitwise_equal(key, cfg, mat, post, pull):
    a = cfg.copy()
    a[D.K_ARBITER] = D.A_SIMPLE
    b = a.copy()
    b[D.K_MAT] = mat  # MAT has no effect under the Simple arbiter
    c = cfg.copy()
    c[D.K_REFRESH] = 0
    d = c.copy()
    d[D.K_POSTPONED], d[D.K_PULLEDIN] = post, pull  # refresh sub-knobs no-op under NoRefresh
    rec = records(key, np.stack([a, b, c, d]))
    assert np.array_equal(rec[0], rec[1]) and np.array_equal(rec[2], rec[3])
    tr, _ = TRACES[key]
    if tr.read_only:
        e = cfg.copy()
        e[D.K_SBUF], e[D.K_SCHED] = D.READWRITE, D.S_FRFCFS_GRP
        f = e.copy()
        f[D.K_SBUF], f[D.K_SCHED] = D.SHARED, D.S_FRFCFS
        r2 = records(key, np.stack([e, f]))
        assert np.array_equal(r2[0], r2[1])  # ReadWrite ≡ Shared, FrFcfsGrp ≡ FrFcfs on read-only traces
        assert np.array_equal(canonicalize(e, read_only=True), canonicalize(f, read_only=True))


@SETTINGS
@given(keys, st.lists(configs, min_size=2, max_size=6))
def test_batch_parallel_equals_serial(key, cfgs):
    tr, dev = TRACES[key]
    a = np.stack(cfgs)
    assert np.array_equal(run_records(DECODED[key], dev, a, parallel=True),
                          run_records(DECODED[key], dev, a, parallel=False))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 300), st.integers(0, 1000), st.floats(0, 1), configs)
def test_any_small_trace_terminates(n, seed, wf, cfg):
    tr = make_trace("cloud2", n_requests=n, seed=seed, write_fraction=wf)
    rec = run_records(decode_trace(tr, DDR3_1600), DDR3_1600, cfg[None], parallel=False)
    assert rec[0, D.R_STATUS] == D.OK and rec[0, D.R_RD] + rec[0, D.R_WR] == n


def test_write_traces_exercise_write_knobs():
    key = ("random_rw", "DDR3-1600")
    base = np.array([0, 2, 1, 3, 0, 0, 0, 0, 0, 0])
    grp = base.copy()
    grp[D.K_SCHED] = D.S_FRFCFS_GRP
    shared = base.copy()
    shared[D.K_SBUF] = D.SHARED
    rec = records(key, np.stack([base, grp, shared]))
    assert rec[0, D.R_WR] > 0
    assert not np.array_equal(rec[0], rec[2])  # ReadWrite differs from Shared once there are writes


def test_bad_knob_indices_are_rejected_before_the_kernel():
    with pytest.raises(ValueError, match="out of range"):
        records(("stream", "DDR3-1600"), np.array([4, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
