"""The one great-circle distance of the package: hand-computed cases, broadcasting, and
pyproj's geodesics on the same sphere as an independent reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import Geod

from cocity.metrics.geodesy import EARTH_RADIUS_KM, haversine_km


def test_hand_computed_distances() -> None:
    # a degree of the equator is R·π/180; equator to pole R·π/2; antipodes R·π (clipped root)
    assert haversine_km(0, 0, 1, 0) == pytest.approx(EARTH_RADIUS_KM * math.pi / 180, rel=1e-12)
    assert haversine_km(0, 0, 0, 90) == pytest.approx(EARTH_RADIUS_KM * math.pi / 2, rel=1e-12)
    assert haversine_km(10, 20, -170, -20) == pytest.approx(EARTH_RADIUS_KM * math.pi,
                                                            rel=1e-12)
    assert haversine_km(104.06, 30.67, 104.06, 30.67) == 0.0
    # symmetric to the bit
    assert haversine_km(104.06, 30.67, 106.55, 29.56) == haversine_km(106.55, 29.56, 104.06,
                                                                      30.67)


def test_broadcasts_like_numpy() -> None:
    lon = np.array([103.0, 104.0, 106.5])
    lat = np.array([29.0, 30.7, 29.6])
    d = haversine_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    assert d.shape == (3, 3) and np.all(np.diag(d) == 0) and np.array_equal(d, d.T)
    to_one = haversine_km(lon, lat, 104.0, 30.7)
    assert np.array_equal(to_one, d[:, 1])


def test_matches_pyproj_geodesics_on_the_same_sphere() -> None:
    rng = np.random.default_rng(11)
    lon1, lon2 = rng.uniform(-180, 180, (2, 500))
    lat1, lat2 = rng.uniform(-89, 89, (2, 500))
    sphere = Geod(a=EARTH_RADIUS_KM * 1000, f=0)
    _az, _back, metres = sphere.inv(lon1, lat1, lon2, lat2)
    np.testing.assert_allclose(haversine_km(lon1, lat1, lon2, lat2), metres / 1000,
                               rtol=1e-9, atol=1e-6)
