"""Spatial weights: contiguity, distance and k-nearest-neighbour weights against libpysal,
tolerances, islands, components, transformations and bad input."""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
import shapely

from cocity.datasets import open_store
from cocity.metrics.errors import MetricInputError
from cocity.metrics.geodesy import EARTH_RADIUS_KM
from cocity.metrics.weights import (
    SpatialWeights,
    contiguity,
    distance_band,
    inverse_distance,
    knn,
    queen,
    rook,
)


def lp(cls: Any, *args: Any, **kwargs: Any) -> Any:
    """A libpysal weights object, without its warnings (islands, disconnected graphs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(*args, **kwargs)


def lp_from_df(cls: Any, gdf: gpd.GeoDataFrame) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls.from_dataframe(gdf, use_index=False, ids=gdf["code"].tolist())


def dense(w: Any) -> np.ndarray:
    return np.asarray(w.sparse.toarray())


def grid(nx: int, ny: int, size: float = 0.1, x0: float = 104.0,
         y0: float = 30.0) -> gpd.GeoDataFrame:
    boxes, codes = [], []
    for r in range(ny):
        for c in range(nx):
            boxes.append(shapely.box(x0 + c * size, y0 + r * size, x0 + (c + 1) * size,
                                     y0 + (r + 1) * size))
            codes.append(f"g{r}{c}")
    return gpd.GeoDataFrame({"code": codes}, geometry=boxes, crs="EPSG:4326")


@pytest.fixture(scope="module")
def counties() -> gpd.GeoDataFrame:
    gdf = open_store().geodata(level="county")
    return gdf[gdf.geometry.notna()].reset_index(drop=True)


# ----------------------------------------------------------------------------- contiguity


@pytest.mark.parametrize(("rule", "cls"), [("queen", "Queen"), ("rook", "Rook")])
def test_lattice_matches_libpysal(rule: str, cls: str) -> None:
    gdf = grid(5, 4)
    w = contiguity(gdf, rule)
    ref = lp_from_df(getattr(libpysal.weights, cls), gdf)
    assert w.ids == tuple(gdf["code"])
    np.testing.assert_array_equal(w.matrix.toarray(), dense(ref))
    # interior cell: 8 queen neighbours, 4 rook neighbours
    assert len(w.neighbours("g11")) == (8 if rule == "queen" else 4)
    assert w.is_symmetric and w.n_components == 1 and w.islands == []


@pytest.mark.parametrize(("rule", "cls"), [("queen", "Queen"), ("rook", "Rook")])
def test_real_county_boundaries_match_libpysal(counties: gpd.GeoDataFrame, rule: str,
                                               cls: str) -> None:
    w = contiguity(counties, rule)
    ref = lp_from_df(getattr(libpysal.weights, cls), counties)
    np.testing.assert_array_equal(w.matrix.toarray(), dense(ref))
    assert w.n == 156
    assert w.islands == [] and w.n_components == 1


def test_real_counties_rook_drops_point_contacts(counties: gpd.GeoDataFrame) -> None:
    q, r = queen(counties), rook(counties)
    only_queen = (q.matrix - r.matrix).tocoo()
    assert only_queen.nnz == 4  # two pairs touching at a point, both directions
    geoms = counties.geometry.values
    for i, j in zip(only_queen.row, only_queen.col, strict=True):
        assert shapely.length(shapely.intersection(geoms[i].boundary, geoms[j])) == 0.0


def test_units_without_geometry_are_an_error() -> None:
    gdf = open_store().geodata(level="county")
    with pytest.raises(MetricInputError, match="511071, 511771"):
        queen(gdf)


def test_t_junction_is_rook_here_but_not_in_libpysal() -> None:
    # A spans two cells below B and C; A has no vertex at (1, 1), the corner of B and C.
    polys = [shapely.box(0, 0, 2, 1), shapely.box(0, 1, 1, 2), shapely.box(1, 1, 2, 2)]
    gdf = gpd.GeoDataFrame({"code": ["A", "B", "C"]}, geometry=polys)
    w = rook(gdf)
    assert w.neighbours("A") == {"B": 1.0, "C": 1.0}
    ref = lp_from_df(libpysal.weights.Rook, gdf)
    assert "B" not in ref.neighbors["A"]
    assert dense(lp_from_df(libpysal.weights.Queen, gdf)).sum() == queen(gdf).s0


def test_corner_contact_is_queen_not_rook_at_any_snap() -> None:
    polys = [shapely.box(0, 0, 1, 1), shapely.box(1, 1, 2, 2)]
    for snap in (0.0, 1e-6, 1e-3):
        assert queen(polys, snap=snap, ids=["a", "b"]).nnz == 2
        assert rook(polys, snap=snap, ids=["a", "b"], islands="keep").nnz == 0


def test_snap_closes_a_gap_between_simplified_neighbours() -> None:
    gap = 1e-4  # about 10 m
    polys = [shapely.box(0, 0, 1, 1), shapely.box(1 + gap, 0, 2, 1)]
    with pytest.raises(MetricInputError, match="a, b"):
        queen(polys, ids=["a", "b"])
    for rule in ("queen", "rook"):
        w = contiguity(polys, rule, snap=1e-3, ids=["a", "b"])
        assert w.neighbours("a") == {"b": 1.0}


def test_snap_zero_uses_exact_intersection() -> None:
    polys = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(2 + 1e-9, 0, 3, 1)]
    w = rook(polys, snap=0.0, ids=["a", "b", "c"], islands="keep")
    assert w.neighbours("a") == {"b": 1.0} and w.islands == ["c"]
    assert rook(polys, snap=1e-8, ids=["a", "b", "c"]).neighbours("c") == {"b": 1.0}


def test_sliver_overlap_counts_as_shared_border() -> None:
    polys = [shapely.box(0, 0, 1, 1), shapely.box(1 - 1e-5, 0, 2, 1)]
    w = rook(polys, ids=["a", "b"])
    assert w.neighbours("a") == {"b": 1.0}


# ----------------------------------------------------------------------------- islands, components


def islanders() -> gpd.GeoDataFrame:
    polys = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(4, 0, 5, 1),
             shapely.box(2, 3, 3, 4)]
    return gpd.GeoDataFrame({"code": ["a", "b", "far", "up"]}, geometry=polys)


def test_islands_raise_by_default_naming_them(english: None) -> None:
    with pytest.raises(MetricInputError, match=r"2 unit\(s\) have no neighbour \(islands\)") as err:
        queen(islanders())
    assert "2 unit(s) have no neighbour" in str(err.value)
    assert "far, up" in str(err.value) and 'islands="nearest"' in str(err.value)


def test_islands_keep_reports_them() -> None:
    w = queen(islanders(), islands="keep")
    assert w.islands == ["far", "up"]
    assert w.n_components == 3
    assert w.components.tolist() == [0, 0, 1, 2]
    assert w.row_standardised().matrix.sum(axis=1).tolist() == [1.0, 1.0, 0.0, 0.0]


def test_islands_nearest_links_both_ways() -> None:
    w = queen(islanders(), islands="nearest")
    assert w.islands == [] and w.joined_islands == ("far", "up")
    assert w.neighbours("far") == {"b": 1.0}  # 2 away from b, 2.24 from up
    assert w.neighbours("up") == {"b": 1.0}  # 2 away from b (corner), 2.2 from a
    assert w.neighbours("b") == {"a": 1.0, "far": 1.0, "up": 1.0}
    assert w.is_symmetric and w.n_components == 1


def test_disconnected_components_are_reported_not_raised() -> None:
    polys = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(5, 0, 6, 1),
             shapely.box(6, 0, 7, 1)]
    w = rook(polys, ids=list("abcd"))
    assert w.islands == [] and w.n_components == 2
    assert w.summary()["n_components"] == 2


def test_bad_island_policy() -> None:
    with pytest.raises(MetricInputError, match=r'islands 须为 "raise"（报错）、"nearest"（连接最'):
        queen(islanders(), islands="drop")


# ----------------------------------------------------------------------------- points


@pytest.fixture(scope="module")
def points() -> np.ndarray:
    return np.random.default_rng(7).random((300, 2)) * 100


@pytest.mark.parametrize("k", [1, 4, 8])
def test_knn_euclidean_matches_libpysal(points: np.ndarray, k: int) -> None:
    w = knn(points, k, metric="euclidean")
    ref = lp(libpysal.weights.KNN.from_array, points, k=k)
    np.testing.assert_array_equal(w.matrix.toarray(), dense(ref))
    assert (w.cardinalities == k).all()


def test_knn_great_circle_on_real_units_matches_libpysal() -> None:
    units = open_store().units(level="county").dropna(subset=["lon", "lat"])
    w = knn(units, 5)
    ref = lp(libpysal.weights.KNN.from_array, units[["lon", "lat"]].to_numpy(), k=5,
             radius=EARTH_RADIUS_KM)
    np.testing.assert_array_equal(w.matrix.toarray(), dense(ref))
    assert w.ids == tuple(units["code"])
    assert not w.is_symmetric
    sym = w.symmetrised()
    assert sym.is_symmetric and sym.nnz > w.nnz
    assert ((sym.matrix - w.matrix).toarray() >= 0).all()


def test_knn_units_without_coordinates_are_an_error() -> None:
    units = open_store().units(level="county")
    with pytest.raises(MetricInputError, match="511071"):
        knn(units, 5)


def test_distance_band_binary_matches_libpysal(points: np.ndarray) -> None:
    w = distance_band(points, 12.0, metric="euclidean")
    ref = lp(libpysal.weights.DistanceBand, points, threshold=12.0)
    np.testing.assert_array_equal(w.matrix.toarray(), dense(ref))


def test_inverse_distance_matches_libpysal(points: np.ndarray) -> None:
    w = inverse_distance(points, 12.0, metric="euclidean", power=2.0)
    ref = lp(libpysal.weights.DistanceBand, points, threshold=12.0, binary=False, alpha=-2.0)
    np.testing.assert_allclose(w.matrix.toarray(), dense(ref), rtol=1e-12, atol=0)
    full = inverse_distance(points[:40], metric="euclidean")
    assert full.nnz == 40 * 39
    d = np.hypot(*(points[0] - points[1]))
    assert full.neighbours("0")["1"] == pytest.approx(1 / d, rel=1e-12)


def test_inverse_distance_great_circle_matches_libpysal() -> None:
    units = open_store().units(level="county").dropna(subset=["lon", "lat"])
    w = inverse_distance(units, 40.0, islands="keep")
    ref = lp(libpysal.weights.DistanceBand, units[["lon", "lat"]].to_numpy(), threshold=40.0,
             binary=False, alpha=-1.0, radius=EARTH_RADIUS_KM)
    np.testing.assert_allclose(w.matrix.toarray(), dense(ref), rtol=1e-9, atol=0)
    assert len(w.islands) == len(ref.islands) > 0


def test_great_circle_distances_by_hand() -> None:
    pts = pd.DataFrame({"code": ["o", "e", "n"], "lon": [0.0, 1.0, 0.0],
                        "lat": [0.0, 0.0, 90.0]})
    w = inverse_distance(pts)
    one_degree = EARTH_RADIUS_KM * np.pi / 180  # 111.195 km
    assert w.neighbours("o")["e"] == pytest.approx(1 / one_degree, rel=1e-12)
    assert w.neighbours("o")["n"] == pytest.approx(1 / (EARTH_RADIUS_KM * np.pi / 2), rel=1e-12)
    band = distance_band(pts, 112.0, islands="keep")
    assert band.neighbours("o") == {"e": 1.0} and band.islands == ["n"]


def test_distance_band_islands_nearest() -> None:
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0]])
    w = inverse_distance(pts, 2.0, metric="euclidean", islands="nearest", ids=["a", "b", "c"])
    assert w.joined_islands == ("c",)
    assert w.neighbours("c") == {"b": pytest.approx(1 / 9)}
    assert w.neighbours("b") == {"a": 1.0, "c": pytest.approx(1 / 9)}


def test_geodataframe_of_points() -> None:
    gdf = gpd.GeoDataFrame({"code": ["a", "b", "c"]},
                           geometry=gpd.points_from_xy([0, 1, 3], [0, 0, 0]))
    assert knn(gdf, 1, metric="euclidean").neighbours("c") == {"b": 1.0}
    with pytest.raises(MetricInputError, match=r"距离权重需要点要素；面要素请先取代表点（如 \.rep"):
        knn(grid(2, 2), 1)


# ----------------------------------------------------------------------------- transformations


def test_transformations_and_moments_match_libpysal(counties: gpd.GeoDataFrame) -> None:
    w = queen(counties)
    ref = lp_from_df(libpysal.weights.Queen, counties)
    r = w.row_standardised()
    np.testing.assert_allclose(r.matrix.sum(axis=1), 1.0, rtol=1e-15)
    assert r.transform == "R" and w.transform == "O"
    assert r.binary().matrix.toarray().tolist() == w.matrix.toarray().tolist()
    ref.transform = "r"
    np.testing.assert_allclose(r.matrix.toarray(), dense(ref), rtol=1e-15)
    for attr in ("s0", "s1", "s2"):
        assert getattr(r, attr) == pytest.approx(getattr(ref, attr), rel=1e-12)
    ref.transform = "b"
    for attr in ("s0", "s1", "s2"):
        assert getattr(w, attr) == pytest.approx(getattr(ref, attr), rel=1e-12)
    assert w.transformed("r").transform == "R" and w.transformed("O") is w
    with pytest.raises(MetricInputError, match=r'未知的权重变换 .v.；可选 "r"（行标准化）、"b"（'):
        w.transformed("v")


def test_to_frame_and_summary() -> None:
    w = rook(grid(3, 1))
    frame = w.to_frame()
    assert frame.to_dict("records") == [
        {"focal": "g00", "neighbour": "g01", "weight": 1.0},
        {"focal": "g01", "neighbour": "g00", "weight": 1.0},
        {"focal": "g01", "neighbour": "g02", "weight": 1.0},
        {"focal": "g02", "neighbour": "g01", "weight": 1.0}]
    s = w.summary()
    assert (s["n"], s["links"], s["min_neighbours"], s["max_neighbours"]) == (3, 4, 1, 2)
    assert "components=1" in repr(w)


# ----------------------------------------------------------------------------- bad input


def test_matrix_validation() -> None:
    with pytest.raises(MetricInputError, match=r"空间权重矩阵须为 n × n 方阵且与 2 个单元编号对应"):
        SpatialWeights(np.ones((2, 3)), ["a", "b"])
    with pytest.raises(MetricInputError, match=r"空间权重矩阵的对角线（自身权重）须为 0；G_i\* 会"):
        SpatialWeights(np.eye(2), ["a", "b"])  # self-weights
    with pytest.raises(MetricInputError, match=r"空间权重须为有限的非负数"):
        SpatialWeights(np.array([[0, -1.0], [1, 0]]), ["a", "b"])
    with pytest.raises(MetricInputError, match=r"空间权重须为有限的非负数"):
        SpatialWeights(np.array([[0, np.nan], [1, 0]]), ["a", "b"])
    with pytest.raises(MetricInputError, match="a"):
        SpatialWeights(np.zeros((2, 2)), ["a", "a"])
    w = SpatialWeights(np.array([[0, 2.0], [1, 0]]), ["a", "b"])
    with pytest.raises(MetricInputError, match=r"空间权重中没有单元 z"):
        w.neighbours("z")


def test_point_validation(points: np.ndarray) -> None:
    with pytest.raises(MetricInputError, match=r"近邻数 k 须为 1 至 n−1（300 个单元时为 300−1）之"):
        knn(points, 0)
    with pytest.raises(MetricInputError, match=r"近邻数 k 须为 1 至 n−1（3 个单元时为 3−1）之间的"):
        knn(points[:3], 3)
    with pytest.raises(MetricInputError, match=r"大圆距离需要经纬度坐标（纬度在 ±90° 内）；投影坐"):
        knn(points, 2)  # latitudes up to 100: not lon/lat
    with pytest.raises(MetricInputError, match=r"距离阈值须为正的有限数，实际为 \-1\.0"):
        distance_band(points, -1.0, metric="euclidean")
    with pytest.raises(MetricInputError, match=r'距离类型须为 "haversine"（球面大圆距离，千米）或'):
        knn(points, 2, metric="manhattan")
    twins = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    with pytest.raises(MetricInputError, match=r"有位置重合的点（距离为 0），反距离权重无定义"):
        inverse_distance(twins, 2.0, metric="euclidean")
    assert distance_band(twins, 2.0, metric="euclidean").nnz == 6
    with pytest.raises(MetricInputError, match=r"点坐标须为 \(n, 2\) 数组，实际形状 \(3, 3\)"):
        knn(np.zeros((3, 3)), 1)
    with pytest.raises(MetricInputError, match=r"表中缺少坐标列 lon 或 lat"):
        knn(pd.DataFrame({"x": [1, 2]}), 1)


def test_contiguity_validation() -> None:
    polys = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)]
    with pytest.raises(MetricInputError, match=r'邻接规则须为 "queen"（后式）或 "rook"（车式），'):
        contiguity(polys, "bishop")
    with pytest.raises(MetricInputError, match=r"snap 容差须为有限的非负数（坐标单位，经纬度时为"):
        queen(polys, snap=-1.0)
    with pytest.raises(MetricInputError, match=r"min_length 须为有限的非负数，实际为 nan"):
        rook(polys, min_length=float("nan"))
    with pytest.raises(MetricInputError, match=r"单元编号数 1 与几何或点数 2 不符"):
        queen(polys, ids=["a"])
    with pytest.raises(MetricInputError, match=r"邻接权重需要面要素（Polygon 或 MultiPolygon）"):
        queen([shapely.Point(0, 0), shapely.Point(1, 1)])
