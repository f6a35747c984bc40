"""Helpers shared by the ride-sharing tests."""

from __future__ import annotations

import numpy as np

from opsrl.envs.ride_sharing.env import RideSharing


def scripted(orders, zones, **kw) -> RideSharing:
    """A ``tiny_line_test`` instance (zone z centred at (z + 0.5, 0.5) km, 20 km/h) with these orders and
    vehicle start zones."""
    return RideSharing.from_preset("tiny_line_test", scripted_orders=tuple(orders), initial_zones=tuple(zones),
                                   fleet_size=len(zones), **kw)


def zero_scores(problem: RideSharing, batch: int = 1) -> np.ndarray:
    return np.zeros((batch, problem.V, problem.O))
