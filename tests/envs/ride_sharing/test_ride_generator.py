"""Synthetic demand (spec §2.2, §3): the exact OD facts, the time profile, Monte Carlo moments, and the
sampled streams (sorted, reproducible, inside the horizon)."""

from __future__ import annotations

import numpy as np
import pytest

from opsrl.envs.ride_sharing import dynamics as K_
from opsrl.envs.ride_sharing.city import grid_city, od_weights, origin_weights, sample_orders, time_profile
from opsrl.envs.ride_sharing.env import RideSharing
from opsrl.envs.ride_sharing.params import RideParams


def test_od_distribution_matches_the_spec_facts():
    p = RideParams.from_preset("grid_manhattan_1000")
    city = grid_city(p)
    J = od_weights(p, city)
    assert J.sum() == pytest.approx(1.0)
    assert (J * city.distance()).sum() == pytest.approx(3.41876, abs=1e-4)
    assert np.trace(J) == pytest.approx(0.06843, abs=1e-4)
    pi = origin_weights(p, city)
    assert pi.min() == pytest.approx(0.00738, abs=1e-5) and pi.max() == pytest.approx(0.02950, abs=1e-5)
    assert np.allclose(city.d_in, 0.75) and city.n_zones == 64
    assert city.bbox.tolist() == [0.0, 4.0, 0.0, 20.0]


def test_time_profile_falls_linearly_over_the_evening_window():
    p = RideParams.from_preset("grid_small")
    f = time_profile(p, np.array([0.0, 900.0, 1800.0]))
    np.testing.assert_allclose(f, [1.0, (1 + 0.97723) / 2, 0.97723], atol=1e-5)


@pytest.mark.parametrize("preset,expected", [("grid_small", 237.3), ("grid_manhattan_1000", 3855.6)])
def test_expected_order_count(preset, expected):
    assert RideSharing.from_preset(preset).demand.expected_orders == pytest.approx(expected, abs=0.1)


def test_monte_carlo_moments_within_three_standard_errors():
    problem = RideSharing.from_preset("grid_small")
    p, city = problem.params, problem.city
    rng = np.random.default_rng(123)
    B = 400
    o = sample_orders(p, city, problem.demand, problem.n_cap, B, rng)
    n = o["n"].astype(float)
    mean = problem.demand.expected_orders
    assert abs(n.mean() - mean) < 3 * np.sqrt(mean / B)  # Poisson: var = mean
    J = od_weights(p, city)
    mask = np.arange(problem.n_cap)[None, :] < o["n"][:, None]
    od = o["z"][mask]
    intra = (od[:, 0] == od[:, 1]).astype(float)
    se = np.sqrt(np.trace(J) * (1 - np.trace(J)) / intra.size)
    assert abs(intra.mean() - np.trace(J)) < 3 * se
    dist = city.distance()[od[:, 0], od[:, 1]]
    ed = (J * city.distance()).sum()
    sd = np.sqrt((J * (city.distance() - ed) ** 2).sum())
    assert abs(dist.mean() - ed) < 3 * sd / np.sqrt(dist.size)


def test_streams_are_sorted_reproducible_and_inside_the_horizon():
    problem = RideSharing.from_preset("grid_small")
    a = problem.init(3, np.random.default_rng(5))
    b = problem.init(3, np.random.default_rng(5))
    np.testing.assert_array_equal(a.of, b.of)
    np.testing.assert_array_equal(a.oi, b.oi)
    c = problem.init(3, np.random.default_rng(6))
    assert not np.array_equal(a.of[:, :, K_.TREQ], c.of[:, :, K_.TREQ])
    for row in range(3):
        n = a.n_orders[row]
        t = a.of[row, :n, K_.TREQ]
        assert (np.diff(t) >= 0).all() and t.min() >= 0 and t.max() < problem.params.horizon_s
        np.testing.assert_array_equal(a.oi[row, :n, K_.REVEAL], np.floor(t / 60).astype(int))


def test_uniform_points_lie_in_their_zone_and_ceil_reveal():
    problem = RideSharing.from_preset("grid_small", point_mode="uniform_in_zone", reveal="ceil")
    s = problem.init(2, np.random.default_rng(0))
    city = problem.city
    for row in range(2):
        n = s.n_orders[row]
        z = s.oi[row, :n, K_.ZO]
        assert (np.abs(s.of[row, :n, K_.PX] - city.centroid[z, 0]) <= city.half[z, 0] + 1e-12).all()
        assert (np.abs(s.of[row, :n, K_.PY] - city.centroid[z, 1]) <= city.half[z, 1] + 1e-12).all()
        t = s.of[row, :n, K_.TREQ]
        np.testing.assert_array_equal(s.oi[row, :n, K_.REVEAL], np.ceil(t / 60).astype(int))
        assert (s.oi[row, :n, K_.REVEAL] < problem.params.epochs).all()
