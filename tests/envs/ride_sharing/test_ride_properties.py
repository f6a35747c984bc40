"""Invariants under random play (hypothesis): capacity never exceeded, every order exactly once waiting,
assigned, picked up, delivered or lost and counted accordingly, no teleporting vehicles, routes
consistent with seats, and generated = served + lost + pending at the end."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from opsrl.envs.ride_sharing import dynamics as K_
from opsrl.envs.ride_sharing.env import RideSharing

CASES = [
    ("grid_town", {}),
    ("grid_town", {"capacity": 1}),
    ("grid_town", {"pooling": False, "capacity": 2}),
    ("grid_town", {"point_mode": "uniform_in_zone", "reveal": "ceil"}),
    ("grid_town", {"score_transform": "identity", "capacity": 4, "drain": True}),
    ("grid_small", {"max_orders": 8, "fleet_size": 80}),
    ("grid_town", {"capacity": 5, "arrival_rate": 12.0, "matching_backend": "ortools_mcf"}),
]
BATCH = 9  # ≥ PARALLEL_MIN_BATCH: the parallel kernels are fuzzed too


@settings(max_examples=14, deadline=None)
@given(case=st.sampled_from(CASES), seed=st.integers(0, 2**31 - 1), scale=st.sampled_from([0.1, 3.0, 50.0]))
def test_invariants_under_random_scores(case, seed, scale):
    preset, over = case
    problem = RideSharing.from_preset(preset, **over)
    p = problem.params
    rng = np.random.default_rng(seed)
    state = problem.init(BATCH, rng)
    v_max_km = problem.city.speed.max() * p.epoch_s / 3600.0
    active = np.ones(BATCH, dtype=bool)
    status_before = state.oi[:, :, K_.STATUS].copy()
    for k in range(p.epochs):
        pos, km = state.vf[:, :, K_.X:K_.Y + 1].copy(), state.vf[:, :, K_.KM].copy()
        tr = problem.step(state, rng.normal(size=(BATCH, problem.V, problem.O)) * scale, active, rng)
        status = state.oi[:, :, K_.STATUS]
        n = state.n_orders
        real = np.arange(problem.n_cap)[None, :] < n[:, None]
        # status only moves forward: waiting → assigned → picked → delivered, or waiting → lost
        moved = status != status_before
        assert (status[moved] > status_before[moved]).all()
        assert not ((status_before == K_.WAIT) & (status > K_.WAIT) & (status != K_.LOST)
                    & (state.oi[:, :, K_.VEH] < 0)).any()
        assert ((status == K_.LOST) <= (status_before <= K_.WAIT) | (status_before == K_.LOST)).all()
        status_before = status.copy()
        # capacity and seat bookkeeping
        load = state.vi[:, :, K_.LOAD]
        assert (load >= 0).all() and (load <= p.capacity).all()
        drops = ((state.ri[:, :, :, K_.R_KIND] == K_.DROP)
                 & (np.arange(p.capacity + 1)[None, None, :] < state.vi[:, :, K_.NSTOP][:, :, None])).sum(-1)
        np.testing.assert_array_equal(drops, load)
        onboard = ((status == K_.ASSIGNED) | (status == K_.PICKED)) & real
        for b in range(BATCH):
            np.testing.assert_array_equal(
                np.bincount(state.oi[b, onboard[b], K_.VEH], minlength=problem.V), load[b])
        # every order counted exactly once
        s = state.stats
        served = ((status >= K_.ASSIGNED) & (status <= K_.DONE) & real).sum(1)
        np.testing.assert_array_equal(served, s[:, K_.S_SERVED])
        np.testing.assert_array_equal(((status == K_.LOST) & real).sum(1), s[:, K_.S_LOST])
        np.testing.assert_array_equal(((status == K_.DONE) & real).sum(1), s[:, K_.S_DONE])
        revealed = (state.oi[:, :, K_.REVEAL] <= np.minimum(state.t, p.epochs - 1)[:, None]) & real
        pending = ((status == K_.WAIT) & revealed).sum(1)
        np.testing.assert_array_equal(pending, s[:, K_.S_PENDING])
        assert (status[~revealed & real] == K_.WAIT).all()
        # one vehicle per order, one new order per vehicle per epoch
        got = tr.info["group_mask"]
        assert (got.sum(1) == tr.info["served_now"]).all()
        # no teleporting: a vehicle moves (and drives) at most v_max·Δ per epoch, and never jumps at assignment
        step = np.abs(state.vf[:, :, K_.X:K_.Y + 1] - pos).sum(-1)
        if not p.drain or k < p.epochs - 1:
            assert (step <= v_max_km + 1e-9).all()
            assert (state.vf[:, :, K_.KM] - km <= v_max_km + 1e-9).all()
        assert (state.vf[:, :, K_.KM] - km >= -1e-12).all()
        # planned stops are in time order and in the future
        nst = state.vi[:, :, K_.NSTOP]
        times = state.rf[:, :, :, K_.R_TIME]
        for s_ in range(1, p.capacity + 1):
            has = nst > s_
            assert (times[:, :, s_][has] >= times[:, :, s_ - 1][has] - 1e-9).all()
        assert (times[:, :, 0][nst > 0] > state.t[:, None].repeat(problem.V, 1)[nst > 0] * p.epoch_s - 1e-9).all()
        # the visible list is the oldest pending orders, FCFS
        for b in range(BATCH):
            vis = state.vis[b][state.vis[b] >= 0]
            assert (np.diff(vis) > 0).all()
            assert (state.oi[b, vis, K_.STATUS] == K_.WAIT).all()
    assert tr.terminated.all()
    m = problem.metrics(state)
    np.testing.assert_array_equal(m["generated"], m["served"] + m["lost"] + m["pending"])
    if p.drain:
        np.testing.assert_array_equal(m["completed"], m["served"])
