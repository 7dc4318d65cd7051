"""Street networks: edge lists, line layers, profiles and speeds, components, snapping."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from cocity.access.errors import AccessInputError
from cocity.access.kernel import Router
from cocity.access.network import (
    DRIVE_SPEEDS_KMH,
    Network,
    parse_oneway,
    speed_table,
    z_order,
)


def arcs(net: Network) -> set[tuple[object, object, float, float]]:
    f = net.arcs_frame()
    return {(u, v, round(length, 6), round(m, 6)) for u, v, length, m in
            zip(f.u, f.v, f.length_m, f.minutes, strict=True)}


def edge_table() -> tuple[pd.DataFrame, pd.DataFrame]:
    nodes = pd.DataFrame({"id": [10, 20, 30, 40, 50], "x": [0.0, 300.0, 300.0, 0.0, 600.0],
                          "y": [0.0, 0.0, 400.0, 400.0, 0.0]})
    edges = pd.DataFrame({
        "u": [10, 20, 30, 40, 20],
        "v": [20, 30, 40, 10, 50],
        "length": [300.0, 400.0, 300.0, 400.0, 300.0],
        "oneway": ["no", "yes", "-1", None, "no"],
        "highway": ["residential", "primary", "residential", "footway", "motorway"],
    })
    return nodes, edges


def test_edge_list_walk_ignores_oneway_and_drops_motorways():
    nodes, edges = edge_table()
    net = Network.from_edges(edges, nodes, profile="walk")
    m = 60 / 4500                                     # minutes per metre at 4.5 km/h
    expect = set()
    for u, v, length in [(10, 20, 300.0), (20, 30, 400.0), (30, 40, 300.0), (40, 10, 400.0)]:
        expect |= {(u, v, length, round(length * m, 6)), (v, u, length, round(length * m, 6))}
    assert arcs(net) == expect
    assert net.n_nodes == 4 and 50 not in net.node_ids        # only the motorway used it
    assert net.report["dropped_by_class"] == {"motorway": 1}
    assert net.report["unused_nodes"] == 1


def test_edge_list_drive_follows_oneway_and_road_class_speeds():
    nodes, edges = edge_table()
    net = Network.from_edges(edges, nodes, profile="drive")
    per_m = {c: 60 / (1000 * s) for c, s in DRIVE_SPEEDS_KMH.items()}
    expect = {
        (10, 20, 300.0, round(300 * per_m["residential"], 6)),
        (20, 10, 300.0, round(300 * per_m["residential"], 6)),
        (20, 30, 400.0, round(400 * per_m["primary"], 6)),          # oneway=yes
        (40, 30, 300.0, round(300 * per_m["residential"], 6)),      # oneway=-1
        (20, 50, 300.0, round(300 * per_m["motorway"], 6)),
        (50, 20, 300.0, round(300 * per_m["motorway"], 6)),
    }
    assert arcs(net) == expect                                      # footway dropped
    flat = Network.from_edges(edges, nodes, profile="drive", speed_kmh=36.0)
    assert set(np.round(flat.weights / flat.length, 9)) == {round(60 / 36000, 9)}
    custom = Network.from_edges(edges, nodes, profile="drive", speed_kmh={"primary": 60})
    primary = custom.arcs_frame().query("highway == 'primary'")
    assert primary.minutes.tolist() == [pytest.approx(0.4)]


def test_bike_default_speed_and_per_edge_speed_column():
    nodes, edges = edge_table()
    edges["speed_kmh"] = [np.nan, 12.0, np.nan, np.nan, np.nan]
    net = Network.from_edges(edges, nodes, profile="bike")
    f = net.arcs_frame()
    assert f.query("u == 20 and v == 30").minutes.item() == pytest.approx(400 / 200)
    assert f.query("u == 10 and v == 20").minutes.item() == pytest.approx(300 / 250)
    assert set(f.highway) == {"residential", "primary"}           # no footway, no motorway


@pytest.mark.parametrize("speed", [-4.5, 0.0, float("nan"), {"primary": -10.0},
                                   {"default": 0.0}, "fast"])
def test_negative_or_zero_speeds_raise(speed, english):
    nodes, edges = edge_table()
    with pytest.raises(AccessInputError, match="positive and finite"):
        Network.from_edges(edges, nodes, profile="drive", speed_kmh=speed)
    with pytest.raises(AccessInputError, match="positive and finite"):
        speed_table("walk", speed)


def test_negative_per_edge_speed_and_bad_lengths_raise(english):
    nodes, edges = edge_table()
    bad = edges.assign(speed_kmh=[5.0, -1.0, 5.0, 5.0, 5.0])
    with pytest.raises(AccessInputError, match="positive and finite"):
        Network.from_edges(bad, nodes)
    with pytest.raises(AccessInputError, match="negative"):
        Network.from_edges(edges.assign(length=[1.0, -2.0, 1.0, 1.0, 1.0]), nodes)
    with pytest.raises(AccessInputError, match="unknown travel profile"):
        Network.from_edges(edges, nodes, profile="swim")  # type: ignore[arg-type]
    with pytest.raises(AccessInputError, match="not in the network"):
        Network.from_edges(edges.assign(u=[10, 20, 30, 40, 99]), nodes)
    with pytest.raises(AccessInputError, match="oneway"):
        Network.from_edges(edges.assign(oneway=["sometimes"] * 5), nodes)
    with pytest.raises(AccessInputError, match="none of the 5 edge"):
        Network.from_edges(edges.assign(highway="footway"), nodes, profile="drive")


def test_parse_oneway_values():
    got = parse_oneway([True, False, 1, 0, -1, "yes", "No", "-1", "reverse", None, np.nan, ""])
    assert got.tolist() == [1, 0, 1, 0, -1, 1, 0, -1, -1, 0, 0, 0]
    assert parse_oneway(["alternating"], strict=False).tolist() == [0]


def test_csv_and_parquet_edge_lists_load_the_same(tmp_path):
    nodes, edges = edge_table()
    edges.to_csv(tmp_path / "e.csv", index=False)
    nodes.to_csv(tmp_path / "n.csv", index=False)
    edges.to_parquet(tmp_path / "e.parquet")
    nodes.to_parquet(tmp_path / "n.parquet")
    ref = arcs(Network.from_edges(edges, nodes, profile="drive"))
    assert arcs(Network.from_edges(tmp_path / "e.csv", tmp_path / "n.csv", profile="drive")) == ref
    assert arcs(Network.from_edges(str(tmp_path / "e.parquet"), tmp_path / "n.parquet",
                                   profile="drive")) == ref
    renamed = edges.rename(columns={"u": "from", "v": "to"})
    assert arcs(Network.from_edges(renamed, nodes, profile="drive",
                                   columns={"from": "u", "to": "v"})) == ref
    with pytest.raises(AccessInputError, match=r"找不到文件 .*missing\.csv"):
        Network.from_edges(tmp_path / "missing.csv", nodes)


def test_edge_geometries_give_coordinates_and_lengths():
    wkt = ["LINESTRING (0 0, 100 0, 100 100)", "LINESTRING (100 100, 0 100)"]
    edges = pd.DataFrame({"u": ["a", "b"], "v": ["b", "c"], "geometry": wkt})
    net = Network.from_edges(edges, crs="EPSG:32648")
    assert sorted(net.node_ids.tolist()) == ["a", "b", "c"]
    at = net.index_of(["a", "b", "c"])
    assert net.x[at].tolist() == [0.0, 100.0, 0.0] and net.y[at].tolist() == [0.0, 100.0, 100.0]
    assert sorted(net.length.tolist()) == [100.0, 100.0, 200.0, 200.0]
    assert net.crs == "EPSG:32648"
    # no geometry, no length: straight lines between the nodes
    nodes = pd.DataFrame({"id": ["a", "b"], "x": [0.0, 30.0], "y": [0.0, 40.0]})
    net = Network.from_edges(pd.DataFrame({"u": ["a"], "v": ["b"]}), nodes)
    assert net.length.tolist() == [50.0, 50.0]
    with pytest.raises(AccessInputError, match=r"边表没有节点坐标：请提供节点表（id\ 与\ x/y\ 或"):
        Network.from_edges(pd.DataFrame({"u": ["a"], "v": ["b"]}))


def test_lonlat_nodes_are_projected_to_utm():
    nodes = pd.DataFrame({"id": [1, 2], "lon": [104.0, 104.01], "lat": [30.6, 30.6]})
    net = Network.from_edges(pd.DataFrame({"u": [1], "v": [2]}), nodes)
    assert net.crs == "EPSG:32648"
    # 0.01° of longitude at 30.6° N ≈ 957.5 m (the UTM scale factor adds < 0.1 %)
    assert net.length[0] == pytest.approx(957.5, rel=2e-3)
    with pytest.raises(AccessInputError, match=r"经纬度超出范围（经度须在\ ±180°、纬度须在\ ±90°"):
        Network.from_edges(pd.DataFrame({"u": [1], "v": [2]}),
                           nodes.assign(lat=[95.0, 95.0]))


def test_line_layer_from_geopackage(tmp_path):
    lines = [
        shapely.LineString([(0, 0), (100, 0)]),
        shapely.LineString([(100.004, 0), (100, 100)]),              # starts 4 mm away
        shapely.LineString([(100, 100), (0, 100), (0, 0)]),
        shapely.MultiLineString([[(100, 100), (200, 100)], [(200, 100), (200, 200)]]),
        shapely.LineString([(500, 500), (600, 500)]),                # a separate piece
    ]
    gdf = gpd.GeoDataFrame({"highway": ["residential", "residential", "footway", "primary",
                                        "service"],
                            "oneway": ["no", "yes", "no", "no", "no"]},
                           geometry=lines, crs="EPSG:32648")
    path = tmp_path / "roads.gpkg"
    gdf.to_file(path, layer="roads", engine="pyogrio")
    net = Network.from_lines(path, layer="roads", profile="drive")
    coords = {int(i): (round(x, 3), round(y, 3))
              for i, x, y in zip(net.node_ids, net.x, net.y, strict=True)}
    at = {xy: i for i, xy in coords.items()}
    assert set(coords.values()) == {(0, 0), (100, 0), (100, 100), (200, 100), (200, 200),
                                    (500, 500), (600, 500)}
    got = {(coords[int(u)], coords[int(v)], round(length, 3))
           for u, v, length in zip(net.arcs_frame().u, net.arcs_frame().v, net.length,
                                   strict=True)}
    expect = {((0, 0), (100, 0), 100.0), ((100, 0), (0, 0), 100.0),
              ((100, 0), (100, 100), 100.0),                       # oneway, footway dropped
              ((100, 100), (200, 100), 100.0), ((200, 100), (100, 100), 100.0),
              ((200, 100), (200, 200), 100.0), ((200, 200), (200, 100), 100.0),
              ((500, 500), (600, 500), 100.0), ((600, 500), (500, 500), 100.0)}
    assert got == expect
    assert at[(0, 0)] == 0                                          # ids by first appearance
    near_chengdu = gdf.set_geometry(gdf.translate(400_000, 3_380_000))
    walk = Network.from_lines(near_chengdu.to_crs("EPSG:4326"), profile="walk")
    assert walk.crs == "EPSG:32648" and walk.n_nodes == 7            # lon/lat → UTM 48N
    assert sorted(np.round(walk.length, 6)) == sorted(np.round(
        Network.from_lines(near_chengdu, profile="walk").length, 6))
    tight = Network.from_lines(gdf, profile="walk", node_tolerance=0.001)
    assert tight.n_nodes == 8                                       # 4 mm gap not merged
    with pytest.raises(AccessInputError, match=r"线图层没有坐标参考系（CRS）；请在数据中设置或传"):
        Network.from_lines(gdf.set_crs(None, allow_override=True))
    with pytest.raises(AccessInputError, match=r"几何须为线（LineString\ 或\ MultiLineString）"):
        Network.from_lines(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs="EPSG:32648"))


def components_net() -> Network:
    # 0 ⇄ 1 ⇄ 2, 2 → 3 (one way), 4 ⇄ 5 apart
    nodes = pd.DataFrame({"id": range(6), "x": [0.0, 100, 200, 300, 1000, 1100],
                          "y": [0.0] * 6})
    edges = pd.DataFrame({"u": [0, 1, 2, 4], "v": [1, 2, 3, 5], "length": [100.0] * 4,
                          "oneway": [0, 0, 1, 0]})
    return Network.from_edges(edges, nodes, profile="drive", speed_kmh=6.0)


def test_largest_component_strong_and_weak():
    net = components_net()
    strong, rep = net.largest_component()
    assert strong.node_ids.tolist() == [0, 1, 2]
    assert rep.kind == "strong" and rep.n_components == 3
    assert (rep.kept_nodes, rep.dropped_nodes, rep.dropped_arcs) == (3, 3, 3)
    assert sorted(rep.dropped_node_ids.tolist()) == [3, 4, 5] and rep.dropped_sizes == [2, 1]
    assert "3" in str(rep)
    assert strong.report["component"]["dropped_nodes"] == 3
    weak, rep_w = net.largest_component("weak")
    assert weak.node_ids.tolist() == [0, 1, 2, 3] and rep_w.n_components == 2
    assert weak.n_arcs == 5
    nodes, times = Router(weak).one_to_many(0)
    assert dict(zip(weak.node_ids[nodes].tolist(), times.tolist(), strict=True)) == {
        0: 0.0, 1: 1.0, 2: 2.0, 3: 3.0}
    with pytest.raises(AccessInputError, match=r'连通类型须为\ "strong"（强连通）或\ "weak"（弱连'):
        net.largest_component("medium")  # type: ignore[arg-type]


def test_snapping_distances_and_far_points(english):
    net = components_net()
    pts = np.array([[10.0, 5.0], [190.0, -30.0], [650.0, 0.0], [1100.0, 499.0]])
    snap = net.snap(pts)
    assert snap.node.tolist() == [0, 2, 3, 5]
    np.testing.assert_allclose(snap.distance, [np.hypot(10, 5), np.hypot(10, 30), 350.0, 499.0])
    assert snap.snapped.tolist() == [True, True, True, True]
    strict = net.snap(pts, max_snap=300.0)
    assert strict.node.tolist() == [0, 2, -1, -1] and strict.far.tolist() == [2, 3]
    assert strict.node_id.tolist() == [0, 2, None, None]
    assert strict.distance[3] == pytest.approx(499.0)               # still reported
    assert "2 lie more than 300 m" in str(strict)
    frame = strict.frame()
    assert frame.columns.tolist() == ["node", "node_id", "distance_m", "snapped"]
    with pytest.raises(AccessInputError, match="more than 300 m"):
        net.snap(pts, max_snap=300.0, on_far="raise")
    with pytest.raises(AccessInputError, match=r"max_snap\ must\ be\ finite\ and\ non\-negative\ "):
        net.snap(pts, max_snap=-1.0)
    with pytest.raises(AccessInputError, match=r"some\ points\ have\ no\ coordinates\ or\ geometr"):
        net.snap(np.array([[np.nan, 0.0]]))


def test_snapping_geodata_and_lonlat_points():
    nodes = pd.DataFrame({"id": [1, 2], "lon": [104.0, 104.01], "lat": [30.6, 30.6]})
    net = Network.from_edges(pd.DataFrame({"u": [1], "v": [2]}), nodes)
    pts = pd.DataFrame({"lon": [104.0001, 104.0099], "lat": [30.6, 30.6]})
    snap = net.snap(pts)
    assert snap.node_id.tolist() == [1, 2]
    assert snap.distance[0] == pytest.approx(9.58, rel=5e-3)
    gs = gpd.GeoSeries([shapely.Point(104.0001, 30.6), shapely.box(104.009, 30.599, 104.011,
                                                                  30.601)], crs="EPSG:4326")
    assert net.snap(gs).node_id.tolist() == [1, 2]
    projected = Network.from_edges(pd.DataFrame({"u": [1], "v": [2]}),
                                   pd.DataFrame({"id": [1, 2], "x": [0.0, 10.0],
                                                 "y": [0.0, 0.0]}))
    with pytest.raises(AccessInputError, match=r"路网的坐标参考系未知，无法转换点坐标；请给出与路"):
        projected.snap(pts)                                   # no CRS to project into


def test_to_scipy_keeps_the_fastest_parallel_arc_and_with_speeds():
    nodes = pd.DataFrame({"id": [1, 2], "x": [0.0, 100.0], "y": [0.0, 0.0]})
    edges = pd.DataFrame({"u": [1, 1], "v": [2, 2], "length": [300.0, 150.0]})
    net = Network.from_edges(edges, nodes, speed_kmh=6.0)
    assert net.n_arcs == 4
    m = net.to_scipy()
    assert m.nnz == 2 and m[0, 1] == pytest.approx(1.5) and m[1, 0] == pytest.approx(1.5)
    assert net.to_scipy("length")[0, 1] == 150.0
    slow = net.with_speeds(3.0)
    assert slow.weights.min() == pytest.approx(3.0) and slow.speeds == {"default": 3.0}
    assert net.index_of([2, 1]).tolist() == [1, 0]
    with pytest.raises(AccessInputError, match=r"1\ 个节点编号不在路网中：3"):
        net.index_of([3])
    with pytest.raises(AccessInputError, match=r"walk\ 的速度（default）须为有限的正数（千米/小时"):
        net.with_speeds(-1.0)


def test_z_order_groups_nearby_nodes_and_keeps_the_graph():
    xs, ys = np.meshgrid(np.arange(4.0), np.arange(4.0))
    perm = z_order(xs.ravel(), ys.ravel())
    assert sorted(perm.tolist()) == list(range(16))
    # the first four are the lower-left 2 × 2 block
    assert {(xs.ravel()[i], ys.ravel()[i]) for i in perm[:4]} == {(0, 0), (1, 0), (0, 1), (1, 1)}
    nodes, edges = edge_table()
    ordered = Network.from_edges(edges, nodes, profile="drive")  # stored in Z-order
    # the same network with its nodes listed in reverse, kept in that order, then re-ordered
    last = ordered.n_nodes - 1
    given = {"node_ids": ordered.node_ids[::-1], "x": ordered.x[::-1], "y": ordered.y[::-1],
             "u": last - ordered.tails(), "v": last - ordered.indices,
             "length": ordered.length, "profile": "drive",
             "oneway": np.ones(ordered.n_arcs, dtype=np.int8), "highway": ordered.highway}
    plain = Network.from_arrays(**given)
    again = Network.from_arrays(**given, spatial_order=True)
    assert arcs(plain) == arcs(ordered) == arcs(again)
    assert plain.node_ids.tolist() != ordered.node_ids.tolist()
    assert again.node_ids.tolist() == ordered.node_ids.tolist()
