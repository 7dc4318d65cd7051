"""GCJ-02 ↔ WGS-84 (cocity.data.geodesy): published reference pairs, round trips, China only."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cocity.data.errors import WorkspaceError
from cocity.data.geodesy import (
    GCJ02_CRS,
    convert_coords,
    gcj02_to_wgs84,
    inside_china,
    normalize_datum,
    wgs84_to_gcj02,
)
from cocity.data.store import Store
from tests.conftest import fill_tiny

# (WGS-84 lon, lat) → (GCJ-02 lon, lat), the test cases of googollee/eviltransform,
# python/test.py (commit 3416646): Shanghai, Shenzhen, Beijing (there given lat first).
EVILTRANSFORM = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]
# wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915).
COORDTRANSFORM = ((116.404, 39.915), (116.41024449916938, 39.91640428150164))


@pytest.mark.parametrize(("wgs", "gcj"), [*EVILTRANSFORM, COORDTRANSFORM])
def test_forward_offset_matches_published_pairs(wgs: tuple[float, float],
                                                gcj: tuple[float, float]) -> None:
    lon, lat = wgs84_to_gcj02(*wgs)
    assert float(lon) == pytest.approx(gcj[0], abs=1e-9)
    assert float(lat) == pytest.approx(gcj[1], abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM)
def test_inverse_recovers_the_published_wgs84_points(wgs: tuple[float, float],
                                                     gcj: tuple[float, float]) -> None:
    lon, lat = gcj02_to_wgs84(*gcj)
    assert abs(float(lon) - wgs[0]) < 1e-7 and abs(float(lat) - wgs[1]) < 1e-7


def test_the_offset_is_a_few_hundred_metres() -> None:
    lon, lat = wgs84_to_gcj02(104.066, 30.573)  # 成都
    assert 0.001 < abs(float(lon) - 104.066) < 0.01
    assert 0.001 < abs(float(lat) - 30.573) < 0.01


@settings(max_examples=200, deadline=None)
@given(st.floats(73.0, 135.0), st.floats(18.0, 54.0))
def test_round_trips_inside_china(lon: float, lat: float) -> None:
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    assert abs(float(w_lon) - lon) < 1e-7 and abs(float(w_lat) - lat) < 1e-7
    b_lon, b_lat = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert abs(float(b_lon) - lon) < 1e-7 and abs(float(b_lat) - lat) < 1e-7


def test_points_outside_china_are_unchanged() -> None:
    lon = np.array([2.35, -74.0, 139.69, 100.0, 100.0])  # Paris, New York, Tokyo, south/north
    lat = np.array([48.86, 40.71, 35.69, 0.5, 60.0])
    assert not inside_china(lon, lat).any()
    for f in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = f(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_arrays_convert_like_points() -> None:
    coords = np.array([w for w, _ in EVILTRANSFORM])
    out = convert_coords(coords, "WGS-84", "GCJ-02")
    np.testing.assert_allclose(out, np.array([g for _, g in EVILTRANSFORM]), atol=1e-9)
    np.testing.assert_allclose(convert_coords(out, "GCJ-02", "WGS-84"), coords, atol=1e-7)
    assert convert_coords(coords, "CGCS2000", "WGS-84") is coords


def test_store_geodata_converts_a_gcj02_workspace(english: None) -> None:
    store = fill_tiny(Store.open(None))
    store.set_meta("datum", "GCJ-02")  # the tiny boxes, read as GCJ-02
    gcj = store.geodata()
    assert gcj.crs == GCJ02_CRS and gcj.attrs["datum"] == "GCJ-02"
    wgs = store.geodata(datum="wgs84")
    assert wgs.crs.to_epsg() == 4326 and wgs.attrs["datum"] == "WGS-84"
    for g, w in zip(gcj.geometry, wgs.geometry, strict=True):
        back = shapely.transform(w, lambda c: convert_coords(c, "WGS-84", "GCJ-02"))
        assert shapely.equals_exact(back, g, tolerance=1e-9)
    lon, lat = gcj02_to_wgs84(gcj["lon"].to_numpy(), gcj["lat"].to_numpy())
    np.testing.assert_allclose(wgs["lon"], lon)
    np.testing.assert_allclose(wgs["lat"], lat)
    # A WGS-84 workspace says so; BD-09 cannot be converted (a clear error, not a guess).
    assert fill_tiny(Store.open(None)).geodata().crs.to_epsg() == 4326
    store.set_meta("datum", "BD-09")
    assert store.geodata().crs is None
    with pytest.raises(WorkspaceError, match="cannot convert datum BD-09 to WGS-84"):
        store.geodata(datum="WGS-84")


def test_normalize_datum_spellings() -> None:
    assert normalize_datum("gcj02") == "GCJ-02" and normalize_datum("WGS84") == "WGS-84"
    assert normalize_datum("Krasovsky") is None
