"""Street networks from small OSM PBF files written here with osmium."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pytest

from cocity.access.errors import AccessInputError
from cocity.access.network import Network
from cocity.access.osm import EARTH_RADIUS_M, read_osm, way_rule

LAT = 30.6
DLON = 0.001            # ≈ 95.75 m at 30.6° N
DLAT = 0.001            # ≈ 111.2 m


def dist_lon(k: float) -> float:
    return float(EARTH_RADIUS_M * np.radians(k * DLON) * np.cos(np.radians(LAT)))


def write_pbf(path: Path, nodes: dict[int, tuple[float, float]],
              ways: list[tuple[int, list[int], dict[str, str]]]) -> Path:
    with osmium.SimpleWriter(str(path)) as w:
        for nid, (lon, lat) in sorted(nodes.items()):
            w.add_node(osmium.osm.mutable.Node(id=nid, location=(lon, lat), tags={}))
        for wid, refs, tags in ways:
            w.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))
    return path


def town(tmp_path: Path) -> Path:
    """A small street pattern (node ids; `=` two-way, `>` one-way):

        1 = 2 = 3 = 4      residential 1–2–3–4 (through node 2 and 3)
            |   >          3 → 5 primary, oneway=yes;  2–6 footway
            6   5 = 7      5–7 motorway (implied one-way 5 → 7); 4–7 oneway=-1 (7 → 4)
        8 – 9              private service road; a building way 10 — 11 — 12
    """
    nodes = {i: (104.0 + DLON * (i - 1), LAT) for i in (1, 2, 3, 4)}
    nodes |= {5: (104.002, LAT - DLAT), 6: (104.001, LAT - DLAT), 7: (104.003, LAT - DLAT),
              8: (104.0, LAT - 2 * DLAT), 9: (104.001, LAT - 2 * DLAT),
              10: (104.01, LAT), 11: (104.011, LAT), 12: (104.011, LAT + DLAT)}
    ways = [
        (100, [1, 2, 3, 4], {"highway": "residential"}),
        (101, [3, 5], {"highway": "primary", "oneway": "yes"}),
        (102, [2, 6], {"highway": "footway"}),
        (103, [5, 7], {"highway": "motorway"}),
        (104, [4, 7], {"highway": "tertiary", "oneway": "-1"}),
        (105, [8, 9], {"highway": "service", "access": "private"}),
        (106, [10, 11, 12, 10], {"building": "yes"}),
    ]
    return write_pbf(tmp_path / "town.osm.pbf", nodes, ways)


def arc_set(net: Network) -> set[tuple[int, int]]:
    f = net.arcs_frame()
    return set(zip(f.u.tolist(), f.v.tolist(), strict=True))


def test_walk_network_from_pbf(tmp_path):
    net = read_osm(town(tmp_path), profile="walk")
    # the residential way is split at 2 and 3 (junctions); motorway and private road dropped
    assert sorted(net.node_ids.tolist()) == [1, 2, 3, 4, 5, 6, 7]
    two_way = {(1, 2), (2, 3), (3, 4), (3, 5), (2, 6), (4, 7)}
    assert arc_set(net) == two_way | {(b, a) for a, b in two_way}
    f = net.arcs_frame().set_index(["u", "v"])
    assert f.loc[(1, 2), "length_m"] == pytest.approx(dist_lon(1), rel=1e-9)
    assert f.loc[(1, 2), "minutes"] == pytest.approx(dist_lon(1) / 75.0, rel=1e-9)
    assert f.loc[(2, 6), "length_m"] == pytest.approx(EARTH_RADIUS_M * np.radians(DLAT),
                                                      rel=1e-9)
    assert net.crs == "EPSG:32648"
    assert net.report["highway_ways"] == 6 and net.report["ways_kept"] == 4
    assert net.report["missing_nodes"] == 0


def test_drive_network_follows_oneway_rules(tmp_path):
    net = Network.from_osm(town(tmp_path), profile="drive")
    # without the footway, node 2 is no junction: 1–2–3 is one edge
    assert arc_set(net) == {(1, 3), (3, 1), (3, 4), (4, 3),
                            (3, 5),                  # oneway=yes
                            (5, 7),                  # motorway: implied one-way
                            (7, 4)}                  # oneway=-1
    f = net.arcs_frame().set_index(["u", "v"])
    assert f.loc[(1, 3), "length_m"] == pytest.approx(2 * dist_lon(1), rel=1e-9)
    assert f.loc[(5, 7), "highway"] == "motorway"
    south = EARTH_RADIUS_M * np.radians(DLON) * np.cos(np.radians(LAT - DLAT))
    assert f.loc[(5, 7), "length_m"] == pytest.approx(south, rel=1e-6)
    assert f.loc[(5, 7), "minutes"] == pytest.approx(f.loc[(5, 7), "length_m"] / (80_000 / 60),
                                                     rel=1e-12)
    strong, rep = net.largest_component()
    assert sorted(strong.node_ids.tolist()) == [1, 3, 4, 5, 7] and rep.dropped_nodes == 0


def test_bike_rules_and_access_tags(tmp_path):
    nodes = {1: (104.0, LAT), 2: (104.001, LAT), 3: (104.002, LAT), 4: (104.003, LAT)}
    ways = [
        (1, [1, 2], {"highway": "footway", "bicycle": "yes"}),
        (2, [2, 3], {"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"}),
        (3, [3, 4], {"highway": "footway"}),
    ]
    net = read_osm(write_pbf(tmp_path / "bike.osm.pbf", nodes, ways), profile="bike")
    assert arc_set(net) == {(1, 2), (2, 1), (2, 3), (3, 2)}
    assert way_rule({"highway": "residential", "foot": "no"}, "walk") == (False, 0)
    assert way_rule({"highway": "residential", "access": "private", "foot": "yes"},
                    "walk") == (True, 0)
    assert way_rule({"highway": "construction", "foot": "yes"}, "walk") == (False, 0)
    assert way_rule({"highway": "primary", "junction": "roundabout"}, "drive") == (True, 1)
    assert way_rule({"highway": "motorway", "oneway": "no"}, "drive") == (True, 0)
    assert way_rule({"highway": "pedestrian", "area": "yes"}, "walk") == (False, 0)


def test_missing_nodes_split_ways(tmp_path):
    # node 3 is referenced but not in the file (a clipped extract)
    nodes = {1: (104.0, LAT), 2: (104.001, LAT), 4: (104.003, LAT), 5: (104.004, LAT)}
    ways = [(1, [1, 2, 3, 4, 5], {"highway": "residential"})]
    net = read_osm(write_pbf(tmp_path / "clip.osm.pbf", nodes, ways), profile="walk")
    assert arc_set(net) == {(1, 2), (2, 1), (4, 5), (5, 4)}
    assert net.report["missing_nodes"] == 1 and net.report["segments_dropped_missing"] == 2


def test_pbf_without_usable_ways_raises(tmp_path, english):
    only_nodes = write_pbf(tmp_path / "nodes.osm.pbf", {1: (104.0, LAT), 2: (104.1, LAT)}, [])
    with pytest.raises(AccessInputError, match="no way usable for walk"):
        read_osm(only_nodes)
    buildings = write_pbf(tmp_path / "b.osm.pbf", {1: (104.0, LAT), 2: (104.001, LAT)},
                          [(1, [1, 2], {"building": "yes"})])
    with pytest.raises(AccessInputError, match="0 way"):
        read_osm(buildings, profile="drive")
    footpaths = write_pbf(tmp_path / "f.osm.pbf", {1: (104.0, LAT), 2: (104.001, LAT)},
                          [(1, [1, 2], {"highway": "footway"})])
    assert read_osm(footpaths, profile="walk").n_arcs == 2
    with pytest.raises(AccessInputError, match="1 way"):
        read_osm(footpaths, profile="drive")
    with pytest.raises(AccessInputError, match="not found"):
        read_osm(tmp_path / "absent.osm.pbf")
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"not a pbf at all")
    with pytest.raises(AccessInputError, match="cannot read"):
        read_osm(junk)
    with pytest.raises(AccessInputError, match="positive and finite"):
        read_osm(footpaths, speed_kmh=-3.0)
